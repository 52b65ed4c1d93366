using static CompleteP.StrictJson;

namespace CompleteP;

/// <summary>
/// The plan document's schema: every object of a plan with its fields, in the order they are written. <see cref="PlanJson.Serialize"/>
/// writes these fields and <see cref="PlanJson.Deserialize(string)"/> reads exactly these (none missing, extra or twice), so a field
/// added here appears in both directions. Names are the members' names in camelCase; enums are written by their camelCase names.
/// </summary>
internal static class PlanJsonSchema
{
    /// <summary>Nesting deeper than a plan's own (7 levels) is refused while parsing.</summary>
    public const int MaxDepth = 16;

    private static readonly JsonCodec<ScaledValue> Scaled = JsonObject<ScaledValue>.Of(
        JsonObject<ScaledValue>.Field("value", v => v.Value, Number),
        JsonObject<ScaledValue>.Field("formula", v => v.Formula, Text),
        JsonObject<ScaledValue>.Field("substitution", v => v.Substitution, Text),
        (value, formula, substitution) => new ScaledValue(value, formula, substitution));

    private static readonly JsonCodec<ModelShape> Shape = JsonObject<ModelShape>.Of(
        JsonObject<ModelShape>.Field("width", s => s.Width, Int),
        JsonObject<ModelShape>.Field("depth", s => s.Depth, Int),
        (width, depth) => new ModelShape(width, depth));

    private static readonly JsonCodec<ModuleHyperparameter> Module = JsonObject<ModuleHyperparameter>.Of(
        JsonObject<ModuleHyperparameter>.Field("selector", m => m.Selector, Text),
        JsonObject<ModuleHyperparameter>.Field("field", m => m.Field, Enum<HyperparameterField>()),
        JsonObject<ModuleHyperparameter>.Field("factor", m => m.Factor, Number),
        (selector, field, factor) => new ModuleHyperparameter(selector, field, factor));

    private static readonly JsonCodec<BaseHyperparameters> Hyperparameters = JsonObject<BaseHyperparameters>.Of(
        JsonObject<BaseHyperparameters>.Field("learningRate", h => h.LearningRate, Number),
        JsonObject<BaseHyperparameters>.Field("initStd", h => h.InitStd, Number),
        JsonObject<BaseHyperparameters>.Field("weightDecay", h => h.WeightDecay, Number),
        JsonObject<BaseHyperparameters>.Field("adamEpsilon", h => h.AdamEpsilon, Number),
        JsonObject<BaseHyperparameters>.Field("beta1", h => h.Beta1, Number),
        JsonObject<BaseHyperparameters>.Field("beta2", h => h.Beta2, Number),
        JsonObject<BaseHyperparameters>.Field("modules", h => h.Modules, List(Module)),
        (lr, std, wd, eps, beta1, beta2, modules) => new BaseHyperparameters(lr, std, wd, eps, beta1, beta2, modules));

    private static readonly JsonCodec<TrainingShape> Training = JsonObject<TrainingShape>.Of(
        JsonObject<TrainingShape>.Field("tokensPerStep", t => t.TokensPerStep, Long),
        JsonObject<TrainingShape>.Field("tokens", t => t.Tokens, Long),
        (tokensPerStep, tokens) => new TrainingShape(tokensPerStep, tokens));

    private static readonly JsonCodec<RuleOptions> Options = JsonObject<RuleOptions>.Of(
        JsonObject<RuleOptions>.Field("epsilonScope", o => o.EpsilonScope, Enum<EpsilonScope>()),
        JsonObject<RuleOptions>.Field("weightDecayConvention", o => o.WeightDecayConvention, Enum<WeightDecayConvention>()),
        JsonObject<RuleOptions>.Field("gpt2OutputProjectionInit", o => o.Gpt2OutputProjectionInit, Bool),
        JsonObject<RuleOptions>.Field("inputMultiplier", o => o.InputMultiplier, Number),
        JsonObject<RuleOptions>.Field("outputMultiplier", o => o.OutputMultiplier, Number),
        JsonObject<RuleOptions>.Field("attentionMultiplier", o => o.AttentionMultiplier, Number),
        JsonObject<RuleOptions>.Field("timescaleExponent", o => o.TimescaleExponent, Number),
        (scope, convention, gpt2, input, output, attention, timescale) => new RuleOptions
        {
            EpsilonScope = scope,
            WeightDecayConvention = convention,
            Gpt2OutputProjectionInit = gpt2,
            InputMultiplier = input,
            OutputMultiplier = output,
            AttentionMultiplier = attention,
            TimescaleExponent = timescale,
        });

    private static readonly JsonCodec<RuleSetup> Setup = JsonObject<RuleSetup>.Of(
        JsonObject<RuleSetup>.Field("parameterization", s => s.Parameterization, AsText(p => p.Name, name => Parameterization.Parse(name))),
        JsonObject<RuleSetup>.Field("baseShape", s => s.BaseShape, Shape),
        JsonObject<RuleSetup>.Field("target", s => s.Target, Shape),
        JsonObject<RuleSetup>.Field("headDim", s => s.HeadDim, Int),
        JsonObject<RuleSetup>.Field("hyperparameters", s => s.Hyperparameters, Hyperparameters),
        JsonObject<RuleSetup>.Field("options", s => s.Options, Options),
        JsonObject<RuleSetup>.Field("baseTraining", s => s.BaseTraining, OrNull(Training)),
        JsonObject<RuleSetup>.Field("targetTraining", s => s.TargetTraining, OrNull(Training)),
        (parameterization, baseShape, target, headDim, hyperparameters, options, baseTraining, targetTraining) =>
            Checked(new RuleSetup(parameterization, baseShape, target, headDim, hyperparameters, options, baseTraining, targetTraining)));

    private static readonly JsonCodec<ForwardMultipliers> Multipliers = JsonObject<ForwardMultipliers>.Of(
        JsonObject<ForwardMultipliers>.Field("residual", m => m.Residual, Scaled),
        JsonObject<ForwardMultipliers>.Field("output", m => m.Output, Scaled),
        JsonObject<ForwardMultipliers>.Field("embedding", m => m.Embedding, Scaled),
        JsonObject<ForwardMultipliers>.Field("attentionScale", m => m.AttentionScale, Scaled),
        (residual, output, embedding, attention) => new ForwardMultipliers(residual, output, embedding, attention));

    private static readonly JsonCodec<InitRule> Init = JsonObject<InitRule>.Of(
        JsonObject<InitRule>.Field("kind", i => i.Kind, Enum<InitKind>()),
        JsonObject<InitRule>.Field("value", i => i.Value, Scaled),
        (kind, value) => new InitRule(kind, value));

    private static readonly JsonCodec<RuleExplanation> Explanation = JsonObject<RuleExplanation>.Of(
        JsonObject<RuleExplanation>.Field("init", e => e.Init, Init),
        JsonObject<RuleExplanation>.Field("learningRate", e => e.LearningRate, Scaled),
        JsonObject<RuleExplanation>.Field("weightDecay", e => e.WeightDecay, Scaled),
        JsonObject<RuleExplanation>.Field("adamEpsilon", e => e.AdamEpsilon, Scaled),
        JsonObject<RuleExplanation>.Field("beta1", e => e.Beta1, Scaled),
        JsonObject<RuleExplanation>.Field("beta2", e => e.Beta2, Scaled),
        (init, lr, wd, eps, beta1, beta2) => new RuleExplanation(init, lr, wd, eps, beta1, beta2));

    private static readonly JsonCodec<TensorRule> Rule = JsonObject<TensorRule>.Of(
        JsonObject<TensorRule>.Field("role", r => r.Role, Enum<TensorRole>()),
        JsonObject<TensorRule>.Field("isBias", r => r.IsBias, Bool),
        JsonObject<TensorRule>.Field("widthMultiplier", r => r.WidthMultiplier, Number),
        JsonObject<TensorRule>.Field("explained", r => r.Explained, Explanation),
        JsonObject<TensorRule>.Field("source", r => r.Source, Text),
        JsonObject<TensorRule>.Field("weightDecayConvention", r => r.WeightDecayConvention, Enum<WeightDecayConvention>()),
        (role, isBias, width, explained, source, convention) => new TensorRule(role, isBias, width, explained, source, convention));

    private static readonly JsonCodec<FoldedMultiplier> Folded = JsonObject<FoldedMultiplier>.Of(
        JsonObject<FoldedMultiplier>.Field("kind", f => f.Kind, Enum<MultiplierKind>()),
        JsonObject<FoldedMultiplier>.Field("value", f => f.Value, Scaled),
        (kind, value) => new FoldedMultiplier(kind, value));

    private static readonly JsonCodec<PlanRow> Row = JsonObject<PlanRow>.Of(
        JsonObject<PlanRow>.Field("name", r => r.Name, Text),
        JsonObject<PlanRow>.Field("shape", r => r.Shape, List(Long)),
        JsonObject<PlanRow>.Field("rule", r => r.Rule, Rule),
        JsonObject<PlanRow>.Field("sharedWith", r => r.SharedWith, List(Text)),
        JsonObject<PlanRow>.Field("residualBranch", r => r.ResidualBranch, OrNull(Text)),
        JsonObject<PlanRow>.Field("trainable", r => r.Trainable, Bool),
        JsonObject<PlanRow>.Field("folded", r => r.Folded, OrNull(Folded)),
        (name, shape, rule, shared, branch, trainable, folded) => FoldedRow(new PlanRow(name, shape, rule, shared, branch, trainable), folded));

    private static readonly JsonCodec<MultiplierHook> Hook = JsonObject<MultiplierHook>.Of(
        JsonObject<MultiplierHook>.Field("moduleName", h => h.ModuleName, Text),
        JsonObject<MultiplierHook>.Field("kind", h => h.Kind, Enum<MultiplierKind>()),
        JsonObject<MultiplierHook>.Field("value", h => h.Value, Scaled),
        JsonObject<MultiplierHook>.Field("reason", h => h.Reason, Enum<HookReason>()),
        (module, kind, value, reason) => new MultiplierHook(module, kind, value, reason));

    private static readonly JsonCodec<PlanDiagnostic> Diagnostic = JsonObject<PlanDiagnostic>.Of(
        JsonObject<PlanDiagnostic>.Field("severity", d => d.Severity, Enum<DiagnosticSeverity>()),
        JsonObject<PlanDiagnostic>.Field("subject", d => d.Subject, Text),
        JsonObject<PlanDiagnostic>.Field("message", d => d.Message, Text),
        (severity, subject, message) => new PlanDiagnostic(severity, subject, message));

    /// <summary>A row read from a plan with its multiplier folded in, as the plan builder folds it.</summary>
    private static PlanRow FoldedRow(PlanRow row, FoldedMultiplier? multiplier) => multiplier is null ? row : row.Fold(multiplier);

    /// <summary>A setup read from a plan, checked by the engine as <see cref="RulesEngine.Compute"/> checks one: its numbers stay in range.</summary>
    private static RuleSetup Checked(RuleSetup setup)
    {
        RulesEngine.Validate(setup);
        return setup;
    }

    /// <summary>The whole plan, the document's root.</summary>
    public static JsonCodec<ParameterizationPlan> Plan { get; } = JsonObject<ParameterizationPlan>.Of(
        JsonObject<ParameterizationPlan>.Field("setup", p => p.Setup, Setup),
        JsonObject<ParameterizationPlan>.Field("multipliers", p => p.Multipliers, Multipliers),
        JsonObject<ParameterizationPlan>.Field("rows", p => p.Rows, List(Row)),
        JsonObject<ParameterizationPlan>.Field("hooks", p => p.Hooks, List(Hook)),
        JsonObject<ParameterizationPlan>.Field("scaledAttentionModules", p => p.ScaledAttentionModules, List(Text)),
        JsonObject<ParameterizationPlan>.Field("diagnostics", p => p.Diagnostics, List(Diagnostic)),
        (setup, multipliers, rows, hooks, attention, diagnostics) => new ParameterizationPlan(setup, multipliers, rows, hooks, attention, diagnostics));
}
