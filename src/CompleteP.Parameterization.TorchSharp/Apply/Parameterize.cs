using CompleteP.Rules;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// The one call: <c>Parameterize.Apply(model, optimizer, options)</c> finds every parameter's
/// role, re-initializes it, regroups the optimizer and installs the forward multipliers, and
/// returns the plan it followed.
/// </summary>
public static class Parameterize
{
    /// <summary>
    /// The name of the non-persistent buffer that marks a parameterized model (it is not saved with
    /// the weights). A second <see cref="Apply"/> or <see cref="Attach"/> on a marked model is refused.
    /// </summary>
    public const string MarkerBufferName = "completep_parameterized";

    /// <summary>
    /// Parameterizes a freshly built model and its optimizer: discovers roles and residual branches,
    /// re-initializes every trainable tensor per its rule, regroups the optimizer in place, installs
    /// the forward multipliers as hooks and sets the attention scale of every <see cref="IScaledAttention"/>.
    /// Call it before the first optimizer step and before creating a learning-rate scheduler.
    /// </summary>
    /// <param name="model">The model, at the target shape.</param>
    /// <param name="optimizer">Its optimizer (AdamW, Adam; SGD with SP), built from <c>model.parameters()</c>.</param>
    /// <param name="options">Parameterization, base shape, base hyperparameters, head dimension and optional declarations.</param>
    /// <returns>The plan: one row per parameter with its rule.</returns>
    /// <exception cref="ArgumentException">An option is missing or invalid, or the optimizer and the model disagree.</exception>
    /// <exception cref="ParameterClassificationException">A parameter's role cannot be found; the message lists each one and the declaration that fixes it.</exception>
    /// <exception cref="InvalidOperationException">The model was already parameterized.</exception>
    /// <exception cref="NotSupportedException">The optimizer type is not supported.</exception>
    public static ParameterizationPlan Apply(nn.Module model, optim.Optimizer optimizer, ParameterizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        RefuseSecond(model);
        if (options.Hyperparameters is null)
        {
            throw new ArgumentException("options.Hyperparameters (the base learning rate, init std, weight decay and epsilon) is required.", nameof(options));
        }

        if (options.BaseShape is null && options.BaseModel is null)
        {
            throw new ArgumentException("options.BaseShape (the width and depth the base hyperparameters were tuned at) or options.BaseModel is required.", nameof(options));
        }

        var structure = StructureDiscovery.Discover(model, options.Declarations);
        var target = new ModelShape(structure.Width, structure.Depth);
        if (options.TargetShape is { } declaredTarget && declaredTarget != target)
        {
            throw new ArgumentException($"options.TargetShape ({declaredTarget}) disagrees with the model, which has {target} ({structure.Depth} blocks in '{structure.BlocksName}').", nameof(options));
        }

        IReadOnlyDictionary<string, long>? baseFanIns = null;
        var baseShape = options.BaseShape;
        if (options.BaseModel is not null)
        {
            var (readShape, fanIns) = BaseShapes.Read(options.BaseModel, options.Declarations);
            if (baseShape is not null && baseShape != readShape)
            {
                throw new ArgumentException($"options.BaseShape ({baseShape}) disagrees with options.BaseModel, which has {readShape}.", nameof(options));
            }

            baseShape = readShape;
            baseFanIns = fanIns;
        }

        var setup = new RuleSetup(options.Parameterization, baseShape!, target, options.HeadDim, options.Hyperparameters, options.RuleOptions);
        var rules = RulesEngine.Compute(setup);
        var rows = structure.Parameters.Select(p => new PlanRow(
            p.Name, p.Shape, rules.RuleFor(Describe(p, baseFanIns)), p.SharedWith, p.ResidualBranch, p.Trainable));
        var plan = ParameterizationPlan.Create(rules, rows);

        // Check everything before changing anything.
        OptimizerRegrouping.Validate(optimizer, structure, options.Parameterization);
        MultiplierHooks.Check(structure, plan);

        if (options.Initialize)
        {
            Initialization.Apply(structure.Parameters, plan, options.Generator);
        }

        Install(model, optimizer, structure, plan, options.Logger);
        return plan;
    }

    /// <summary>
    /// Re-attaches a saved plan to a model built at the plan's shape (typically just loaded from a
    /// checkpoint): regroups the optimizer and installs the multipliers without re-initializing.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer, built from <c>model.parameters()</c>.</param>
    /// <param name="plan">The plan that <see cref="Apply"/> returned for the same architecture.</param>
    /// <param name="declarations">The declarations Apply used, if any.</param>
    /// <param name="logger">Where to write the plan; null writes nothing.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException">The plan does not describe this model.</exception>
    /// <exception cref="InvalidOperationException">The model was already parameterized.</exception>
    public static ParameterizationPlan Attach(nn.Module model, optim.Optimizer optimizer, ParameterizationPlan plan, ModelDeclarations? declarations = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(plan);
        RefuseSecond(model);
        var structure = StructureDiscovery.Discover(model, declarations ?? ModelDeclarations.None);
        var mismatches = new List<string>();
        foreach (var p in structure.Parameters)
        {
            var row = plan.Rows.FirstOrDefault(r => r.Name == p.Name);
            if (row is null)
            {
                mismatches.Add($"'{p.Name}' is not in the plan");
            }
            else if (!row.Shape.SequenceEqual(p.Shape) || row.Rule.Role != p.Role)
            {
                mismatches.Add($"'{p.Name}' is [{string.Join("x", p.Shape)}] {p.Role} in the model but [{string.Join("x", row.Shape)}] {row.Rule.Role} in the plan");
            }
        }

        mismatches.AddRange(plan.Rows.Where(r => structure.Parameters.All(p => p.Name != r.Name)).Select(r => $"the plan's '{r.Name}' is not in the model"));
        if (mismatches.Count > 0)
        {
            throw new ArgumentException($"The plan does not describe this model: {string.Join("; ", mismatches.Take(10))}.", nameof(plan));
        }

        OptimizerRegrouping.Validate(optimizer, structure, plan.Setup.Parameterization);
        MultiplierHooks.Check(structure, plan);
        Install(model, optimizer, structure, plan, logger);
        return plan;
    }

    private static void Install(nn.Module model, optim.Optimizer optimizer, ModelStructure structure, ParameterizationPlan plan, ILogger? logger)
    {
        OptimizerRegrouping.Regroup(optimizer, structure, plan);
        MultiplierHooks.Install(structure, plan);
        model.register_buffer(MarkerBufferName, ones(1), persistent: false);
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            logger.LogInformation("CompleteP.Parameterization: {Parameterization} on {Blocks} blocks of '{BlocksName}', {Branches} residual branches, readout '{Readout}', {Attention} attention module(s) scaled.{NewLine}{Plan}",
                plan.Setup.Parameterization, structure.Depth, structure.BlocksName, structure.ResidualBranches.Count,
                structure.Readout?.Name ?? "(none)", structure.AttentionModules.Count, Environment.NewLine, plan.ToTable());
        }

        if (logger is not null && structure.AttentionModules.Count == 0 && plan.Setup.Parameterization.Kind != ParameterizationKind.Standard)
        {
            logger.LogWarning("No module implements IScaledAttention: make the attention multiply q k^T by plan.Multipliers.AttentionScale ({Scale}), not 1/sqrt(d_head).", plan.Multipliers.AttentionScale);
        }
    }

    private static void RefuseSecond(nn.Module model)
    {
        if (model.has_buffer(MarkerBufferName))
        {
            throw new InvalidOperationException(
                "This model is already parameterized (Parameterize.Apply or Attach ran on it): a second call would re-initialize and scale it twice. Build a fresh model, or keep the plan the first call returned.");
        }
    }

    private static TensorDescriptor Describe(DiscoveredParameter p, IReadOnlyDictionary<string, long>? baseFanIns)
    {
        if (p.Role == TensorRole.HiddenWeight && baseFanIns is not null && p.FanIn is { } fanIn)
        {
            if (!baseFanIns.TryGetValue(p.ShapeKey, out long baseFanIn))
            {
                throw new ArgumentException($"options.BaseModel has no parameter matching '{p.Name}' (looked for '{p.ShapeKey}'): the base model must have the same architecture.", "options");
            }

            return new TensorDescriptor(p.Role, p.IsBias, fanIn, baseFanIn, p.IsResidualOutputProjection);
        }

        return new TensorDescriptor(p.Role, p.IsBias, isResidualOutputProjection: p.IsResidualOutputProjection);
    }
}
