using CompleteP.Discovery;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// The one call: <c>Parameterize.Apply(model, optimizer, options)</c> finds every parameter's role and each
/// block's residual branches, re-initializes the tensors, folds the forward multipliers into the weights (hooks
/// only where folding cannot express the rule, and those verified), regroups the optimizer, sets the attention
/// scale, and returns the plan it followed.
/// </summary>
public static class Parameterize
{
    /// <summary>
    /// The name of the non-persistent buffer that marks a parameterized model (it is not saved with
    /// the weights). A second <see cref="Apply"/> or <see cref="Attach"/> on a marked model is refused.
    /// </summary>
    internal const string MarkerBufferName = "completep_parameterized";

    /// <summary>
    /// Parameterizes a freshly built model and its optimizer. Call it before the first optimizer step and before
    /// creating a learning-rate scheduler. Nothing is changed when it throws.
    /// </summary>
    /// <param name="model">The model, at the target shape.</param>
    /// <param name="optimizer">Its optimizer (AdamW, Adam; SGD with SP), built from <c>model.parameters()</c>.</param>
    /// <param name="options">Parameterization, base shape, base hyperparameters, head dimension and optional declarations.</param>
    /// <returns>The plan: one row per parameter with Table 1's rule and what was applied, the hooks, the diagnostics.</returns>
    /// <exception cref="ArgumentException">An option is missing or invalid, or the optimizer and the model disagree.</exception>
    /// <exception cref="ParameterClassificationException">A parameter's role or a multiplier's place cannot be found, or a hook would not fire; the message lists each problem and the declaration that fixes it.</exception>
    /// <exception cref="InvalidOperationException">The model was already parameterized.</exception>
    /// <exception cref="NotSupportedException">The optimizer type is not supported.</exception>
    public static ParameterizationPlan Apply(nn.Module model, optim.Optimizer optimizer, ParameterizeOptions options) =>
        ApplyWithStructure(model, optimizer, options).Plan;

    /// <summary><see cref="Apply"/>, returning also what the discovery found (for the coordinate checks, which record by it).</summary>
    internal static (ParameterizationPlan Plan, ModelStructure Structure) ApplyWithStructure(nn.Module model, optim.Optimizer optimizer, ParameterizeOptions options)
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

        if (!Enum.IsDefined(options.Multipliers))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Multipliers, "options.Multipliers must be MultiplierMode.Fold or MultiplierMode.Hooks.");
        }

        bool widthOnly = options.Parameterization.Kind != ParameterizationKind.DepthScaled;
        var structure = StructureDiscovery.Discover(model, options.Declarations, allowWidthOnly: widthOnly);
        var baseShape = options.BaseShape;
        IReadOnlyDictionary<string, long>? baseFanIns = null;
        if (options.BaseModel is not null)
        {
            var (readShape, fanIns) = BaseShapes.Read(options.BaseModel, options.Declarations, widthOnly);
            if (baseShape is not null && baseShape != readShape)
            {
                throw new ArgumentException($"options.BaseShape ({baseShape}) disagrees with options.BaseModel, which has {readShape}.", nameof(options));
            }

            baseShape = readShape;
            baseFanIns = fanIns;
            RefuseInconsistentBase(structure, readShape, fanIns);
        }

        // A width-only model (no residual blocks) keeps the base depth: there is nothing for m_L to scale.
        var target = new ModelShape(structure.Width, structure.RuleDepth > 0 ? structure.RuleDepth : baseShape!.Depth);
        if (options.TargetShape is { } declaredTarget && declaredTarget != target)
        {
            var fixes = new List<string>();
            if (declaredTarget.Width != target.Width)
            {
                fixes.Add($"the width {target.Width} was read from {structure.WidthSource}: if the residual stream has {declaredTarget.Width} features, declare .Width({declaredTarget.Width})");
            }

            if (declaredTarget.Depth != target.Depth)
            {
                fixes.Add($"the depth {target.Depth} counts the {structure.Depth} blocks in '{structure.BlocksDescription}': declare the blocks with .Blocks(...), or the depth m_L counts with .Depth({declaredTarget.Depth})");
            }

            throw new ArgumentException($"options.TargetShape ({declaredTarget}) disagrees with the model, which has {target}: {string.Join("; ", fixes)}.", nameof(options));
        }

        var rules = RulesEngine.Compute(new RuleSetup(options.Parameterization, baseShape!, target, options.HeadDim, options.Hyperparameters, options.RuleOptions,
            options.BaseTraining, options.TargetTraining));
        var paddingRows = options.Initialize ? Initialization.PaddingRows(structure) : new Dictionary<string, long[]>();
        var plan = BuildPlan(structure, rules, options.Multipliers, options.Declarations, baseFanIns, paddingRows, optimizer);

        // Check everything before changing anything.
        OptimizerRegrouping.Validate(optimizer, structure, options.Parameterization);
        VerifyHooks(model, structure, plan, options.SampleForward, "options.SampleForward");

        Initialization.Apply(structure.Parameters, plan, options.Generator, options.Initialize, paddingRows);
        Install(model, optimizer, structure, plan, options.Logger);
        return (plan, structure);
    }

    /// <summary>
    /// Re-attaches a saved plan to a model built at the plan's shape (typically just loaded from a checkpoint, its
    /// weights already holding any folded multipliers): regroups the optimizer, installs the plan's hooks and sets the
    /// attention scale, without re-initializing or re-scaling anything.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer, built from <c>model.parameters()</c>.</param>
    /// <param name="plan">The plan that <see cref="Apply"/> returned for the same architecture.</param>
    /// <param name="declarations">The declarations Apply used, if any.</param>
    /// <param name="logger">Where to write the plan; null writes nothing.</param>
    /// <param name="sampleForward">
    /// One forward pass of the model on a sample input (e.g. <c>() => model.call(tokens)</c>); required when the plan has
    /// hooks (<see cref="ParameterizationPlan.Hooks"/>), which it proves fire, as <see cref="ParameterizeOptions.SampleForward"/> does for Apply.
    /// </param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException">The plan does not describe this model.</exception>
    /// <exception cref="ParameterClassificationException">The plan has hooks and no <paramref name="sampleForward"/> was given, or a hook did not fire on it.</exception>
    /// <exception cref="InvalidOperationException">The model was already parameterized.</exception>
    public static ParameterizationPlan Attach(nn.Module model, optim.Optimizer optimizer, ParameterizationPlan plan, ModelDeclarations? declarations = null, ILogger? logger = null,
        Action? sampleForward = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(plan);
        RefuseSecond(model);
        var structure = StructureDiscovery.Discover(model, declarations ?? ModelDeclarations.None, allowWidthOnly: plan.Setup.Parameterization.Kind != ParameterizationKind.DepthScaled);
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
                mismatches.Add($"'{p.Name}' is [{Listing.Shape(p.Shape)}] {p.Role} in the model but [{Listing.Shape(row.Shape)}] {row.Rule.Role} in the plan");
            }
        }

        mismatches.AddRange(plan.Rows.Where(r => structure.Parameters.All(p => p.Name != r.Name)).Select(r => $"the plan's '{r.Name}' is not in the model"));
        mismatches.AddRange(plan.Hooks.Where(h => structure.Tree.Find(h.ModuleName) is null).Select(h => $"the plan hooks '{h.ModuleName}', which is not in the model"));
        if (mismatches.Count > 0)
        {
            throw new ArgumentException($"The plan does not describe this model: {string.Join("; ", mismatches.Take(10))}.", nameof(plan));
        }

        OptimizerRegrouping.Validate(optimizer, structure, plan.Setup.Parameterization);
        VerifyHooks(model, structure, plan, sampleForward, nameof(sampleForward));
        Install(model, optimizer, structure, plan, logger);
        return plan;
    }

    /// <summary>
    /// Checks that a model still matches the plan Apply returned for it, and that its optimizer trains exactly its trainable
    /// tensors: nothing replaced, added or renamed after Apply, and no <c>model.to(dtype or device)</c> after the optimizer
    /// was built (TorchSharp replaces and disposes every parameter then, and the optimizer would go on with the dead ones).
    /// <see cref="ParameterizedCheckpoint.Save(nn.Module, ParameterizationPlan, string, optim.Optimizer?)"/> runs it before writing anything.
    /// </summary>
    /// <param name="model">The parameterized model.</param>
    /// <param name="optimizer">Its optimizer, or null to check the model alone.</param>
    /// <param name="plan">The plan Apply (or Attach) returned for the model.</param>
    /// <exception cref="ArgumentException">The model, the optimizer and the plan no longer belong together; the message names each tensor and says what to do.</exception>
    public static void Verify(nn.Module model, optim.Optimizer? optimizer, ParameterizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        PlanConformance.Check(model, optimizer, plan);
    }

    private static ParameterizationPlan BuildPlan(ModelStructure structure, RuleSet rules, MultiplierMode mode, ModelDeclarations declarations,
        IReadOnlyDictionary<string, long>? baseFanIns, IReadOnlyDictionary<string, long[]>? paddingRows = null, optim.Optimizer? optimizer = null)
    {
        var findings = new Findings();
        foreach (var (name, zero) in paddingRows ?? new Dictionary<string, long[]>())
        {
            findings.Info(name, $"row{(zero.Length == 1 ? "" : "s")} {string.Join(", ", zero.Take(8))} of the table {(zero.Length == 1 ? "is" : "are")} zero before the re-initialization (an embedding's padding_idx, " +
                                "which gets no gradient): kept at zero.");
        }

        var (folded, hooks) = MultiplierPlacement.Decide(structure, rules.Multipliers, rules.ResidualMultiplierOf, RulesEngine.BlockReadoutMultiplier(rules.Setup), mode, declarations, findings);
        findings.ThrowIfProblems();
        RefuseUnmatchedModules(structure, rules.Setup.Hyperparameters);
        var rows = Fold(structure.Parameters.Select(p => new PlanRow(p.Name, p.Shape, rules.RuleFor(Describe(p, baseFanIns), [p.Name, .. p.SharedWith]), p.SharedWith,
            p.ResidualBranch, p.Trainable)), folded);
        var attention = structure.AttentionModules.Select(a => a.Name).ToList();
        DescribeAttention(structure, rules, findings);
        LowPrecisionEpsilon(structure, rows, findings);
        foreach (var warning in TrainingRules.Warnings(rules.Setup).Concat(OptimizerRegrouping.BetaWarnings(optimizer, rules.Setup)))
        {
            findings.Warn(warning.Subject, warning.Message);
        }
        if (hooks.Count > 0)
        {
            findings.Info("(hooks)", $"{hooks.Count} forward hook(s) apply multipliers ({string.Join("; ", hooks)}): TorchSharp runs a hook only for module.call(...), so each was proven to fire on " +
                                     "options.SampleForward; keep invoking those modules, and the model, the way the sample forward did.");
        }

        return ParameterizationPlan.Create(rules, rows, hooks, attention, structure.Diagnostics.Concat(findings.Diagnostics));
    }

    /// <summary>
    /// Refuses per-module base hyperparameters that select no parameter of the model (a mistyped pattern, a role the model
    /// lacks): a factor tuned at the base shape that silently applied to nothing would change the run without a trace.
    /// </summary>
    private static void RefuseUnmatchedModules(ModelStructure structure, BaseHyperparameters hyperparameters)
    {
        // A residual multiplier (res) selects residual branches by module name; every other field selects tensors.
        static bool IsResidual(ModuleHyperparameter m) => m.Field == HyperparameterField.ResidualMultiplier;
        var unmatched = hyperparameters.Modules
            .Where(m => IsResidual(m) ? !structure.Branches.Any(b => m.MatchesName(b.Name)) : !structure.Parameters.Any(p => m.Matches(p.Role, [p.Name, .. p.SharedWith])))
            .ToList();
        if (unmatched.Count > 0)
        {
            string examples = string.Join(", ", structure.Parameters.Take(4).Select(p => $"'{p.Name}'"));
            string branches = structure.Branches.Count == 0 ? "the model has no residual branch"
                : $"its residual branches are {Listing.FirstOf(structure.Branches.Select(b => $"'{b.Name}'").ToList(), 6)}";
            string Why(ModuleHyperparameter m) => IsResidual(m) ? $"no residual branch's module name matches the pattern; {branches}"
                : m.IsPattern ? "no parameter name matches the pattern" : $"it has no {m.Selector} tensor";
            throw new ArgumentException(
                $"options.Hyperparameters.Modules: {string.Join("; ", unmatched.Select(m => $"'{m}' selects no {(IsResidual(m) ? "residual branch" : "parameter")} of the model ({Why(m)})"))}. " +
                $"A pattern matches whole names ('*' any run of characters, dots included; '?' one character), e.g. of {examples}; roles are {ModuleHyperparameter.ValidRoles}.",
                "options");
        }
    }

    /// <summary>
    /// The fold step: each multiplier placement put into a tensor is folded into its row (<see cref="PlanRow.Fold"/>), so that
    /// the row's applied rule is what initialization and regrouping use.
    /// </summary>
    private static List<PlanRow> Fold(IEnumerable<PlanRow> rows, IReadOnlyDictionary<string, FoldedMultiplier> folded) =>
        rows.Select(r => folded.TryGetValue(r.Name, out var multiplier) ? r.Fold(multiplier) : r).ToList();

    /// <summary>
    /// A parameter kept in float16 whose Adam epsilon rounds to 0 in float16 (smallest positive 2^-24, about 6e-8): TorchSharp's
    /// AdamW adds epsilon in the parameter's type, so where a gradient is 0 (an unused embedding row) it divides 0 by 0.
    /// </summary>
    private static void LowPrecisionEpsilon(ModelStructure structure, List<PlanRow> rows, Findings findings)
    {
        const double Float16SmallestPositive = 5.9604644775390625E-08;
        var half = structure.Parameters.Zip(rows)
            .Where(x => x.First.Trainable && x.First.Tensor.dtype == ScalarType.Float16 && x.Second.Applied.AdamEpsilon < Float16SmallestPositive / 2)
            .ToList();
        if (half.Count > 0)
        {
            double smallest = half.Min(x => x.Second.Applied.AdamEpsilon);
            findings.Warn("(adam epsilon)", $"{half.Count} float16 parameter(s) (e.g. '{half[0].Second.Name}') get an Adam epsilon down to {ScaledValue.Format(smallest)}, which rounds to 0 in float16 " +
                                            $"(smallest positive {ScaledValue.Format(Float16SmallestPositive)}): AdamW adds it in the parameter's type, so where a gradient is 0 it divides 0 by 0 and the tensor becomes NaN. " +
                                            "Keep float32 master weights (train in float32, cast the forward), or use bfloat16.");
        }
    }

    /// <summary>States how the attention scale is handled: set on IScaledAttention modules, or left to the model.</summary>
    private static void DescribeAttention(ModelStructure structure, RuleSet rules, Findings findings)
    {
        var setup = rules.Setup;
        var scale = rules.Multipliers.AttentionScale;
        if (structure.AttentionModules.Count > 0)
        {
            findings.Info("(attention)", $"the logit scale {scale} is set on {structure.AttentionModules.Count} IScaledAttention module(s).");
        }
        else if (setup.Parameterization.Kind == ParameterizationKind.Standard)
        {
            findings.Info("(attention)", "no module implements IScaledAttention: the attention keeps the model's own logit scale, which under SP is the rule (1/sqrt(d_head)).");
        }
        else
        {
            findings.Info("(attention)", $"no module implements IScaledAttention, so the attention keeps the model's own logit scale. d_head is {setup.HeadDim} at the base and at the target shape " +
                                         $"(heads = width / d_head), so a fixed 1/sqrt(d_head) differs from Table 1's {scale.Formula} = {ScaledValue.Format(scale.Value)} only by a constant factor, " +
                                         $"which transfers like a tuned alpha_attn (= sqrt(d_head) = {ScaledValue.Format(Math.Sqrt(setup.HeadDim))}). A model that keeps the number of heads fixed instead " +
                                         "(d_head growing with the width) needs 1/d_head: implement IScaledAttention.");
        }
    }

    /// <summary>
    /// Proves the plan's hooks fire on the sample forward before anything changes. Without a sample there is no proof:
    /// TorchSharp runs hooks only for <c>module.call(x)</c>, and a model invoked with <c>model.forward(x)</c> would skip them
    /// and any check hung on its own hooks alike, so a plan with hooks and no sample is refused.
    /// </summary>
    private static void VerifyHooks(nn.Module model, ModelStructure structure, ParameterizationPlan plan, Action? sampleForward, string sampleName)
    {
        if (plan.Hooks.Count == 0)
        {
            return;
        }

        bool tied = plan.Hooks.Any(h => h.Reason == HookReason.TiedReadout);
        string otherFix = tied
            ? ", or add a final norm with a gain after the blocks, or untie the readout from the embedding (then the multiplier is folded)"
            : plan.Hooks.All(h => h.Reason == HookReason.HooksMode) ? ", or use the default MultiplierMode.Fold" : string.Empty;
        if (sampleForward is null)
        {
            throw new ParameterClassificationException([
                $"the plan applies multipliers through forward hooks ({string.Join("; ", plan.Hooks)}), and TorchSharp runs a hook only when a module is invoked with .call(x): " +
                $"invoked with .forward(x), a hooked module (or the model itself) would train without its multiplier, and nothing could tell. Pass {sampleName} (e.g. () => model.call(sampleIds)) " +
                $"so that every hook is proven to fire before anything changes{otherFix}."]);
        }

        var modules = plan.Hooks.Select(h => (h.ModuleName, structure.Tree.Find(h.ModuleName)!.Module)).ToList();
        var silent = ModuleHooks.NotRunBy(sampleForward, model, modules);
        if (silent.Count > 0)
        {
            throw new ParameterClassificationException(silent.Select(name =>
                $"the multiplier hook on '{name}' ({plan.Hooks.First(h => h.ModuleName == name).Explanation}) did not fire on {sampleName}: TorchSharp runs forward hooks only when a module is invoked with .call(x), " +
                $"so '{name}' is invoked through .forward(x) or not at all. Invoke it with .call(x){otherFix}.").ToList());
        }
    }

    private static void Install(nn.Module model, optim.Optimizer optimizer, ModelStructure structure, ParameterizationPlan plan, ILogger? logger)
    {
        OptimizerRegrouping.Regroup(optimizer, structure, plan);
        var hooked = plan.Hooks.Select(h => (h, structure.Tree.Find(h.ModuleName)!.Module)).ToList();
        ModuleHooks.InstallScaling(hooked);

        foreach (var (_, attention) in structure.AttentionModules)
        {
            attention.AttentionScale = plan.Multipliers.AttentionScale.Value;
        }

        model.register_buffer(MarkerBufferName, ones(1), persistent: false);
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            logger.LogInformation("CompleteP.Parameterization: {Parameterization} on {Blocks} blocks of '{BlocksName}', {Branches} residual branches, readout '{Readout}'.{NewLine}{Plan}",
                plan.Setup.Parameterization, structure.Depth, structure.BlocksDescription, structure.Branches.Count, structure.Readout?.Name ?? "(none)", Environment.NewLine, plan.ToTable());
        }

        if (logger is not null)
        {
            foreach (var warning in plan.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning))
            {
                logger.LogWarning("CompleteP.Parameterization: {Diagnostic}", warning);
            }
        }
    }

    /// <summary>
    /// The base model's width and its hidden weights' fan-ins must tell the same story as the target's: the same width with
    /// fan-ins that grew, or a different width with no fan-in that changed, means a width was read wrong on one side, and
    /// the multipliers that depend on m_N (the readout's 1/m_N) would be silently wrong.
    /// </summary>
    private static void RefuseInconsistentBase(ModelStructure structure, ModelShape baseShape, IReadOnlyDictionary<string, long> baseFanIns)
    {
        var hidden = structure.Parameters.Where(p => p.Role == TensorRole.HiddenWeight && p.FanIn.HasValue && baseFanIns.ContainsKey(p.ShapeKey)).ToList();
        var grew = hidden.Where(p => p.FanIn != baseFanIns[p.ShapeKey]).ToList();
        if (hidden.Count > 0 && (baseShape.Width == structure.Width) != (grew.Count == 0))
        {
            string example = grew.Count > 0 ? $"'{grew[0].Name}' has fan-in {grew[0].FanIn} against {baseFanIns[grew[0].ShapeKey]} in the base" : "no hidden weight's fan-in changed";
            throw new ArgumentException($"options.BaseModel has width {baseShape.Width} and the model {structure.Width} (from {structure.WidthSource}), but {example}: the width was read wrong on one side, " +
                                        "and m_N would be wrong. Declare the width with .Width(n) and give options.BaseShape instead of options.BaseModel.", "options");
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
