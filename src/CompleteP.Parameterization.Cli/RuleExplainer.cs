using System.Globalization;
using System.Text.RegularExpressions;

namespace CompleteP.Cli;

/// <summary>
/// Explains the numbers of a <see cref="RuleSet"/>: for a tensor role's init, learning rate, weight decay or
/// Adam epsilon, or for a model-level multiplier, the formula, the symbols with their values, the value, the
/// paper's table row and the section of docs/rules.md.
/// </summary>
internal static partial class RuleExplainer
{
    /// <summary>docs/rules.md's section with the table of every rule.</summary>
    public const string TableSection = "Depth-scaled muP (any alpha; CompleteP is alpha = 1)";

    /// <summary>docs/rules.md's section on where the paper and the reference code differ.</summary>
    public const string DifferencesSection = "Where the paper and the reference code differ, and what we do";

    /// <summary>docs/rules.md's section on the roles of modules Table 1 does not name (QK-norm, MoE routers).</summary>
    public const string UnnamedModulesSection = "Modules Table 1 does not name";

    /// <summary>docs/rules.md's section on batch size and training length.</summary>
    public const string TrainingSection = "Batch size and training length";

    /// <summary>docs/rules.md's section on per-module base hyperparameters.</summary>
    public const string ModulesSection = "Per-module base hyperparameters";

    /// <summary>docs/rules.md's section on the options.</summary>
    public const string OptionsSection = "Options";

    /// <summary>The quantities of a tensor role, as written on the command line.</summary>
    public static IReadOnlyList<string> Quantities { get; } = ["init", "learning-rate", "weight-decay", "adam-epsilon"];

    /// <summary>The model-level multipliers, as written on the command line.</summary>
    public static IReadOnlyList<string> Multipliers { get; } = ["residual-multiplier", "output-multiplier", "embedding-multiplier", "attention-scale"];

    /// <summary>The tensor roles, as written on the command line.</summary>
    public static IReadOnlyList<string> Roles { get; } = Enum.GetValues<TensorRole>().Select(r => SetupOptions.Kebab(r.ToString())).ToList();

    /// <summary>Explains one quantity (or all four) of a tensor.</summary>
    /// <param name="rules">The rules of the setup.</param>
    /// <param name="tensor">The tensor: role, bias or not, fan-ins.</param>
    /// <param name="quantity">One of <see cref="Quantities"/>, or null for all four.</param>
    /// <returns>One explanation per quantity.</returns>
    public static IReadOnlyList<Explanation> Tensor(RuleSet rules, TensorDescriptor tensor, string? quantity)
    {
        var rule = rules.RuleFor(tensor);
        string subject = SetupOptions.Kebab(tensor.Role.ToString());
        var options = rules.Setup.Options;
        var explained = new List<Explanation>();
        foreach (var q in quantity is null ? (rules.Setup.Training is null ? Quantities : [.. Quantities, "beta1", "beta2"]) : [quantity])
        {
            var (value, sections) = q switch
            {
                "init" => (rule.Explained.Init.Value, tensor.Role is TensorRole.HiddenNorm or TensorRole.FinalNorm || (options.Gpt2OutputProjectionInit && tensor.IsResidualOutputProjection)
                    ? new[] { TableSection, DifferencesSection }
                    : [TableSection]),
                "learning-rate" => (rule.Explained.LearningRate, [TableSection]),
                "weight-decay" => (rule.Explained.WeightDecay, options.WeightDecayConvention == WeightDecayConvention.Independent ? [TableSection, OptionsSection] : [TableSection]),
                "adam-epsilon" => (rule.Explained.AdamEpsilon, options.EpsilonScope == EpsilonScope.Global ? [TableSection, DifferencesSection] : [TableSection]),
                "beta1" => (rule.Explained.Beta1, [TrainingSection]),
                "beta2" => (rule.Explained.Beta2, [TrainingSection]),
                _ => throw new ArgumentException($"--quantity must be one of {string.Join(", ", Quantities)}, but was '{q}'.", "--quantity"),
            };
            if (tensor.Role is TensorRole.QkNorm or TensorRole.BlockReadout)
            {
                sections = [UnnamedModulesSection, .. sections.Where(s => s != TableSection)];
            }

            if (rules.Setup.Training is not null && !sections.Contains(TrainingSection) && value.Formula.Contains("kappa", StringComparison.Ordinal))
            {
                sections = [.. sections, TrainingSection];
            }

            if (value.Formula.Contains("hp[", StringComparison.Ordinal))
            {
                sections = [.. sections, ModulesSection];
            }

            string name = q == "init" ? (rule.InitKind == InitKind.Normal ? "init std" : "init value") : q.Replace('-', ' ');
            explained.Add(new Explanation(
                tensor.IsBias && tensor.Role != TensorRole.HiddenBias ? subject + " (bias)" : subject,
                name,
                value,
                Symbols(rules, value, rule.WidthMultiplier, tensor),
                rule.Source,
                sections));
        }

        return explained;
    }

    /// <summary>Explains a model-level multiplier.</summary>
    /// <param name="rules">The rules of the setup.</param>
    /// <param name="multiplier">One of <see cref="Multipliers"/>.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Multiplier(RuleSet rules, string multiplier)
    {
        var m = rules.Multipliers;
        string parameterization = rules.Setup.Parameterization.Name;
        bool standard = rules.Setup.Parameterization.Kind == ParameterizationKind.Standard;
        var (value, source) = multiplier switch
        {
            "residual-multiplier" => (m.Residual, rules.Setup.Parameterization.DepthExponent is null
                ? $"Dey et al. 2025, Table 1, residual branch ({parameterization} has no depth rules: x + branch(LN(x)))"
                : $"Dey et al. 2025, Table 1, residual branch: x + m_L^-alpha * branch(LN(x)) ({parameterization})"),
            "output-multiplier" => (m.Output, $"Dey et al. 2025, Table 1, unembedding forward multiplier: logits x {m.Output.Formula} ({parameterization})"),
            "embedding-multiplier" => (m.Embedding, $"Dey et al. 2025, Table 1, embedding forward multiplier: output x alpha_in ({parameterization})"),
            "attention-scale" => (m.AttentionScale, standard
                ? "SP: attention logits q k^T * alpha_attn / sqrt(d_head)"
                : $"muP (Yang et al., Tensor Programs V) and the reference code: attention logits q k^T * alpha_attn / d_head, d_head fixed as width grows ({parameterization})"),
            _ => throw new ArgumentException($"the subject must be a role ({string.Join(", ", Roles)}) or a multiplier ({string.Join(", ", Multipliers)}), but was '{multiplier}'.", "subject"),
        };
        var branches = multiplier == "residual-multiplier" ? rules.Setup.Hyperparameters.ResidualMultipliers.ToList() : [];
        if (branches.Count > 0)
        {
            // Per-branch residual multipliers (--hp PATTERN.res=F) multiply this value for the branches they match.
            source += "; per-branch factors multiply it: " + string.Join("; ", branches.Select(e =>
                $"branches matching '{e.Selector}' get {RulesEngine.BranchResidual(rules.Setup, [e])} (--hp {e})"));
        }

        return new Explanation(multiplier, multiplier.Replace('-', ' '), value, Symbols(rules, value, rules.WidthMultiplier, null), source,
            branches.Count > 0 ? [TableSection, ModulesSection] : [TableSection]);
    }

    /// <summary>Each symbol of the value's formula, in order of first appearance, with its value and meaning.</summary>
    private static List<SymbolValue> Symbols(RuleSet rules, ScaledValue value, double widthMultiplier, TensorDescriptor? tensor)
    {
        var setup = rules.Setup;
        var hp = setup.Hyperparameters;
        var scaling = setup.Scaling;
        // A per-module factor's symbol (hp[selector.field]) holds a selector, whose letters are no symbols of the rules: each is listed on its own.
        var modules = hp.Modules.Where(m => value.Formula.Contains(m.Symbol, StringComparison.Ordinal))
            .Select(m => new SymbolValue(m.Symbol, m.Factor, m.Field == HyperparameterField.ResidualMultiplier
                ? $"per-branch residual multiplier of the residual branches whose module names match '{m.Selector}' (--hp {m})"
                : $"per-module base hyperparameter of {(m.IsPattern ? $"the tensors whose names match '{m.Selector}'" : $"the {m.Selector} role")} (--hp {m})"))
            .ToList();
        string formula = modules.Aggregate(value.Formula, (f, m) => f.Replace(m.Symbol, "hp", StringComparison.Ordinal));
        var symbols = SymbolPattern().Matches(formula).Select(match => match.Value).Distinct().Select(symbol => symbol switch
        {
            "eta" => new SymbolValue(symbol, hp.LearningRate, "base learning rate (--lr)"),
            "sigma" => new SymbolValue(symbol, hp.InitStd, "base init std (--init-std)"),
            "lambda" => new SymbolValue(symbol, hp.WeightDecay, "base weight decay (--weight-decay)"),
            "eps" => new SymbolValue(symbol, hp.AdamEpsilon, "base Adam epsilon (--eps)"),
            "m_N" => new SymbolValue(symbol, widthMultiplier, tensor?.FanIn is { } fanIn && tensor.BaseFanIn is { } baseFanIn
                ? Invariant($"width multiplier of this tensor, fan_in / base_fan_in = {fanIn} / {baseFanIn}")
                : Invariant($"width multiplier N / N_base = {scaling.Target.Width} / {scaling.Base.Width}")),
            "m_L" => new SymbolValue(symbol, scaling.DepthMultiplier, Invariant($"depth multiplier L / L_base = {scaling.Target.Depth} / {scaling.Base.Depth}")),
            "alpha" => new SymbolValue(symbol, setup.Parameterization.DepthExponent ?? 0, $"depth exponent of {setup.Parameterization.Name} (--alpha)"),
            "alpha_in" => new SymbolValue(symbol, setup.Options.InputMultiplier, "embedding output multiplier (--alpha-in)"),
            "alpha_out" => new SymbolValue(symbol, setup.Options.OutputMultiplier, "unembedding (logit) multiplier (--alpha-out)"),
            "alpha_attn" => new SymbolValue(symbol, setup.Options.AttentionMultiplier, "attention logit multiplier (--alpha-attn)"),
            "d_head" => new SymbolValue(symbol, setup.HeadDim, "attention head dimension (--head-dim)"),
            "beta1" => new SymbolValue(symbol, hp.Beta1, "base Adam beta1 (--beta1)"),
            "beta2" => new SymbolValue(symbol, hp.Beta2, "base Adam beta2 (--beta2)"),
            "kappa" => new SymbolValue(symbol, setup.Training!.BatchMultiplier,
                Invariant($"batch multiplier B / B_base = {setup.Training.Target.TokensPerStep} / {setup.Training.Base.TokensPerStep} tokens per step (--tokens-per-step, --base-tokens-per-step)")),
            "S_base" => new SymbolValue(symbol, setup.Training!.Base.Steps, Invariant($"steps of the base run D_base / B_base = {setup.Training.Base.Tokens} / {setup.Training.Base.TokensPerStep}")),
            "S" => new SymbolValue(symbol, setup.Training!.Target.Steps, Invariant($"steps of the target run D / B = {setup.Training.Target.Tokens} / {setup.Training.Target.TokensPerStep}")),
            "TPP" or "TPP_base" => new SymbolValue("TPP/TPP_base", TrainingRules.TokensPerParameterRatio(setup, setup.Training!),
                "tokens-per-parameter ratio (D / D_base) / (m_N^2 * m_L), the hidden weights' parameter count"),
            "m" => new SymbolValue(symbol, setup.Options.TimescaleExponent, "Power Lines' timescale exponent (--timescale-exponent)"),
            _ => new SymbolValue("L", setup.Target.Depth, "depth of the target model (--depth)"),
        }).DistinctBy(v => v.Symbol).ToList();
        symbols.InsertRange(Math.Min(1, symbols.Count), modules);
        return symbols;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The symbols a formula may hold; <c>2L</c> stands for GPT-2's <c>sqrt(2L)</c>.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_])(alpha_in|alpha_out|alpha_attn|alpha|eta|sigma|lambda|eps|m_N|m_L|d_head|2L|beta1|beta2|kappa|S_base|S|TPP_base|TPP|m)(?![A-Za-z0-9_])")]
    private static partial Regex SymbolPattern();
}
