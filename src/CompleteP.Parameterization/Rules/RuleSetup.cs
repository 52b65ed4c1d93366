namespace CompleteP;


/// <summary>
/// Everything the rules engine takes: which parameterization, the base and target shapes, the
/// attention head dimension, the base hyperparameters and the options.
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
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="headDim"/> is zero or negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="headDim"/> does not divide a width, or an option does not apply to the parameterization.</exception>
    public RuleSetup(Parameterization parameterization, ModelShape baseShape, ModelShape target, int headDim,
        BaseHyperparameters hyperparameters, RuleOptions? options = null)
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

        Parameterization = parameterization;
        BaseShape = baseShape;
        Target = target;
        HeadDim = headDim;
        Hyperparameters = hyperparameters;
        Options = options;
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

    /// <summary>The step from base to target shape, with <c>m_N</c> and <c>m_L</c>.</summary>
    public ShapeScaling Scaling => new(BaseShape, Target);
}
