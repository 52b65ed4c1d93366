namespace CompleteP;


/// <summary>
/// Everything the rules engine takes: which parameterization, the base and target shapes, the
/// attention head dimension, the base hyperparameters, the options and, optionally, the base and target
/// training shapes (batch size and length).
/// </summary>
public sealed record RuleSetup
{
    /// <summary>
    /// Creates a setup and checks that its parts fit together. Whether the numbers the rules give stay in the range of a
    /// double is the engine's check: <see cref="RulesEngine.Compute"/> refuses a setup whose numbers would not.
    /// </summary>
    /// <param name="parameterization">SP, muP, CompleteP, depth-muP or any alpha.</param>
    /// <param name="baseShape">The shape the base hyperparameters were tuned at.</param>
    /// <param name="target">The shape of the model being trained.</param>
    /// <param name="headDim">The attention head dimension <c>d_head</c>, held fixed as width grows; must divide both widths.</param>
    /// <param name="hyperparameters">The base hyperparameters.</param>
    /// <param name="options">The options; null means <see cref="RuleOptions.Default"/>.</param>
    /// <param name="baseTraining">The training shape the base hyperparameters were tuned at; given with <paramref name="targetTraining"/> or not at all.</param>
    /// <param name="targetTraining">The training shape of the run being planned; given with <paramref name="baseTraining"/> or not at all.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="headDim"/> is zero or negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="headDim"/> does not divide a width, an option does not apply to the parameterization,
    /// or only one of <paramref name="baseTraining"/> and <paramref name="targetTraining"/> is given (or <c>options.TimescaleExponent</c> without them).</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="targetTraining"/>'s tokens per step are too many for Adam's square-root rule: <c>kappa * (1 - beta)</c> reaches 1 for a
    /// beta of <paramref name="hyperparameters"/>; the message names the largest tokens per step the rule allows.
    /// </exception>
    public RuleSetup(Parameterization parameterization, ModelShape baseShape, ModelShape target, int headDim,
        BaseHyperparameters hyperparameters, RuleOptions? options = null, TrainingShape? baseTraining = null, TrainingShape? targetTraining = null)
    {
        ArgumentNullException.ThrowIfNull(parameterization);
        ArgumentNullException.ThrowIfNull(baseShape);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(hyperparameters);
        Guard.Positive(headDim, nameof(headDim));
        if (target.Width % headDim != 0)
        {
            throw new ArgumentException($"headDim {headDim} must divide the width {target.Width} (heads = width / headDim).", nameof(headDim));
        }

        if (baseShape.Width % headDim != 0)
        {
            throw new ArgumentException($"headDim {headDim} must divide the base width {baseShape.Width} (heads = width / headDim; d_head is held fixed as width grows).", nameof(headDim));
        }

        options ??= RuleOptions.Default;
        if (options.Gpt2OutputProjectionInit && parameterization.Kind != ParameterizationKind.Standard)
        {
            throw new ArgumentException(
                $"options.Gpt2OutputProjectionInit (GPT-2's sigma / sqrt(2L) init) only applies to SP; '{parameterization}' sets the hidden init by its own rule.",
                nameof(options));
        }

        TrainingRules.CheckSetup(hyperparameters, options, baseTraining, targetTraining);
        Parameterization = parameterization;
        BaseShape = baseShape;
        Target = target;
        HeadDim = headDim;
        Hyperparameters = hyperparameters;
        Options = options;
        BaseTraining = baseTraining;
        TargetTraining = targetTraining;
    }

    /// <summary>SP, muP, CompleteP, depth-muP or any alpha.</summary>
    public Parameterization Parameterization { get; }

    /// <summary>The shape the base hyperparameters were tuned at.</summary>
    public ModelShape BaseShape { get; }

    /// <summary>The shape of the model being trained.</summary>
    public ModelShape Target { get; }

    /// <summary>The attention head dimension <c>d_head</c>.</summary>
    public int HeadDim { get; }

    /// <summary>The base hyperparameters.</summary>
    public BaseHyperparameters Hyperparameters { get; }

    /// <summary>The options.</summary>
    public RuleOptions Options { get; }

    /// <summary>The training shape the base hyperparameters were tuned at, or null when the plan covers width and depth only.</summary>
    public TrainingShape? BaseTraining { get; }

    /// <summary>The training shape of the run being planned, or null when the plan covers width and depth only.</summary>
    public TrainingShape? TargetTraining { get; }

    /// <summary>The step from the base run's training shape to the target's (<c>kappa</c>, <c>S / S_base</c>), or null without training shapes.</summary>
    public TrainingScaling? Training => BaseTraining is { } b && TargetTraining is { } t ? new TrainingScaling(b, t) : null;

    /// <summary>The step from base to target shape, with <c>m_N</c> and <c>m_L</c>.</summary>
    public ShapeScaling Scaling => new(BaseShape, Target);
}
