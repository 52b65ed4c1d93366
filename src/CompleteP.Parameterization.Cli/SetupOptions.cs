using System.CommandLine;
using System.CommandLine.Parsing;

namespace CompleteP.Cli;

/// <summary>
/// The options that describe one setup (parameterization, base and target shapes, head dimension, base
/// hyperparameters, rule options), shared by <c>plan</c> and <c>explain</c>; errors name the option,
/// the value and the valid range.
/// </summary>
internal sealed class SetupOptions
{
    /// <summary>The engine's parameter names and the options that set them.</summary>
    private static readonly Dictionary<string, string> OptionOf = new(StringComparer.Ordinal)
    {
        ["name"] = "--parameterization", ["alpha"] = "--alpha", ["headDim"] = "--head-dim", ["learningRate"] = "--lr",
        ["initStd"] = "--init-std", ["weightDecay"] = "--weight-decay", ["adamEpsilon"] = "--eps", ["options"] = "--gpt2-output-init",
        ["InputMultiplier"] = "--alpha-in", ["OutputMultiplier"] = "--alpha-out", ["AttentionMultiplier"] = "--alpha-attn",
        ["beta1"] = "--beta1", ["beta2"] = "--beta2", ["TimescaleExponent"] = "--timescale-exponent",
        ["baseTraining"] = "--base-tokens-per-step", ["targetTraining"] = "--tokens-per-step", ["modules"] = "--hp",
    };

    /// <summary>Creates the options.</summary>
    /// <param name="headDimRequired">Whether <c>--head-dim</c> must be given; when not, it may be absent (null).</param>
    public SetupOptions(bool headDimRequired)
    {
        HeadDim = new Option<int?>("--head-dim")
        {
            Description = "attention head dimension d_head (fixed as width grows)" + (headDimRequired ? string.Empty : "; only the attention scale depends on it"),
            Required = headDimRequired,
        };
    }

    public Option<string> Parameterization { get; } = new("--parameterization", "-p") { Description = "sp, mup, completep, depth-mup (or alpha=A)", Required = true };

    public Option<double?> Alpha { get; } = new("--alpha") { Description = "depth exponent in [0.5, 1] for completep (default 1) or depth-mup (default 0.5)" };

    public Option<int> BaseWidth { get; } = new("--base-width") { Description = "width N_base the base hyperparameters were tuned at", Required = true };

    public Option<int> Width { get; } = new("--width") { Description = "width N (d_model) of the target model", Required = true };

    public Option<int> BaseDepth { get; } = new("--base-depth") { Description = "depth L_base (blocks) the base hyperparameters were tuned at", Required = true };

    public Option<int> Depth { get; } = new("--depth") { Description = "depth L (blocks) of the target model", Required = true };

    public Option<int?> HeadDim { get; }

    public Option<double> LearningRate { get; } = new("--lr") { Description = "base learning rate eta", Required = true };

    public Option<double> InitStd { get; } = new("--init-std") { Description = "base init std sigma", DefaultValueFactory = _ => 0.02 };

    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "base AdamW weight decay lambda", DefaultValueFactory = _ => 0.0 };

    public Option<double> Eps { get; } = new("--eps") { Description = "base Adam epsilon", DefaultValueFactory = _ => 1e-8 };

    public Option<EpsilonScope> EpsilonScope { get; } = new("--epsilon-scope")
    {
        Description = "residual-blocks (Table 1, default) or global (reference code)",
        DefaultValueFactory = _ => CompleteP.EpsilonScope.ResidualBlocks,
        CustomParser = r => ParseEnum<EpsilonScope>(r, "--epsilon-scope"),
    };

    public Option<WeightDecayConvention> WeightDecayConvention { get; } = new("--weight-decay-convention")
    {
        Description = "coupled (PyTorch AdamW, default) or independent",
        DefaultValueFactory = _ => CompleteP.WeightDecayConvention.Coupled,
        CustomParser = r => ParseEnum<WeightDecayConvention>(r, "--weight-decay-convention"),
    };

    public Option<bool> Gpt2OutputInit { get; } = new("--gpt2-output-init") { Description = "SP only: GPT-2's sigma / sqrt(2L) init for residual output projections" };

    public Option<double> AlphaIn { get; } = new("--alpha-in") { Description = "embedding output multiplier", DefaultValueFactory = _ => 1.0 };

    public Option<double> AlphaOut { get; } = new("--alpha-out") { Description = "unembedding (logit) multiplier", DefaultValueFactory = _ => 1.0 };

    public Option<double> AlphaAttn { get; } = new("--alpha-attn") { Description = "attention logit multiplier", DefaultValueFactory = _ => 1.0 };

    public Option<double> Beta1 { get; } = new("--beta1") { Description = "base Adam beta1 (PyTorch's default 0.9)", DefaultValueFactory = _ => 0.9 };

    public Option<double> Beta2 { get; } = new("--beta2") { Description = "base Adam beta2 (PyTorch's default 0.999)", DefaultValueFactory = _ => 0.999 };

    public Option<long?> BaseTokensPerStep { get; } = new("--base-tokens-per-step") { Description = "tokens per optimizer step B_base of the base run (batch size and length transfer: give all four token options or none)" };

    public Option<long?> TokensPerStep { get; } = new("--tokens-per-step") { Description = "tokens per optimizer step B of the target run; kappa = B / B_base" };

    public Option<long?> BaseTokens { get; } = new("--base-tokens") { Description = "total tokens D_base of the base run" };

    public Option<long?> Tokens { get; } = new("--tokens") { Description = "total tokens D of the target run; steps S = D / B" };

    public Option<double> TimescaleExponent { get; } = new("--timescale-exponent")
    {
        Description = "Power Lines' m: the AdamW timescale scales as (TPP/TPP_base)^m, the decay by (TPP/TPP_base)^-m (default 0: timescale held fixed; needs the token options)",
        DefaultValueFactory = _ => 0.0,
    };

    public Option<string[]> Hp { get; } = new("--hp") { Description = ModuleHyperparameterOptions.HpDescription, Arity = System.CommandLine.ArgumentArity.ZeroOrMore };

    public Option<string?> HpFile { get; } = new("--hp-file") { Description = ModuleHyperparameterOptions.HpFileDescription };

    /// <summary>Every option, in the order help lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Parameterization, Alpha, BaseWidth, Width, BaseDepth, Depth, HeadDim, LearningRate, InitStd, WeightDecay, Eps, Beta1, Beta2,
        BaseTokensPerStep, TokensPerStep, BaseTokens, Tokens, TimescaleExponent, Hp, HpFile,
        EpsilonScope, WeightDecayConvention, Gpt2OutputInit, AlphaIn, AlphaOut, AlphaAttn,
    ];

    /// <summary>
    /// The rules of the setup the options describe. Without <c>--head-dim</c> (where it is optional) the head
    /// dimension is the greatest common divisor of the two widths, which changes no rule but the attention scale.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its option.</exception>
    public RuleSet Read(ParseResult r)
    {
        var baseShape = new ModelShape(Positive(r.GetValue(BaseWidth), "--base-width"), Positive(r.GetValue(BaseDepth), "--base-depth"));
        var target = new ModelShape(Positive(r.GetValue(Width), "--width"), Positive(r.GetValue(Depth), "--depth"));
        int headDim = r.GetValue(HeadDim) is { } given ? Positive(given, "--head-dim") : GreatestCommonDivisor(baseShape.Width, target.Width);
        var (baseTraining, targetTraining) = ReadTraining(r);
        var modules = ModuleHyperparameterOptions.Read(r.GetValue(Hp), r.GetValue(HpFile));
        return NamingOptions(() => RulesEngine.Compute(new RuleSetup(
            CompleteP.Parameterization.Parse(r.GetValue(Parameterization)!, r.GetValue(Alpha)),
            baseShape,
            target,
            headDim,
            new BaseHyperparameters(r.GetValue(LearningRate), r.GetValue(InitStd), r.GetValue(WeightDecay), r.GetValue(Eps), r.GetValue(Beta1), r.GetValue(Beta2), modules),
            new RuleOptions
            {
                EpsilonScope = r.GetValue(EpsilonScope),
                WeightDecayConvention = r.GetValue(WeightDecayConvention),
                Gpt2OutputProjectionInit = r.GetValue(Gpt2OutputInit),
                InputMultiplier = r.GetValue(AlphaIn),
                OutputMultiplier = r.GetValue(AlphaOut),
                AttentionMultiplier = r.GetValue(AlphaAttn),
                TimescaleExponent = r.GetValue(TimescaleExponent),
            },
            baseTraining,
            targetTraining)));
    }

    /// <summary>The base and target training shapes: all four token options, or none.</summary>
    private (TrainingShape? Base, TrainingShape? Target) ReadTraining(ParseResult r)
    {
        var given = new[] { (BaseTokensPerStep, r.GetValue(BaseTokensPerStep)), (TokensPerStep, r.GetValue(TokensPerStep)), (BaseTokens, r.GetValue(BaseTokens)), (Tokens, r.GetValue(Tokens)) };
        if (given.All(g => g.Item2 is null))
        {
            return r.GetValue(TimescaleExponent) == 0 ? (null, null) : throw new ArgumentException(
                "--timescale-exponent scales the weight decay by tokens per parameter, which needs --base-tokens-per-step, --tokens-per-step, --base-tokens and --tokens.", "--timescale-exponent");
        }

        if (given.FirstOrDefault(g => g.Item2 is null) is { Item1: { } missing })
        {
            throw new ArgumentException(
                $"{missing.Name} is missing: --base-tokens-per-step, --tokens-per-step, --base-tokens and --tokens come together (the base run's and the target run's batch and length), " +
                $"but only {string.Join(", ", given.Where(g => g.Item2 is not null).Select(g => g.Item1.Name))} {(given.Count(g => g.Item2 is not null) == 1 ? "was" : "were")} given.", missing.Name);
        }

        return (Training(given[0].Item2!.Value, given[2].Item2!.Value, "--base-tokens-per-step", "--base-tokens"),
            Training(given[1].Item2!.Value, given[3].Item2!.Value, "--tokens-per-step", "--tokens"));
    }

    /// <summary>A training shape; an error names the option that set the bad value.</summary>
    private static TrainingShape Training(long tokensPerStep, long tokens, string perStepOption, string tokensOption)
    {
        try
        {
            return new TrainingShape(tokensPerStep, tokens);
        }
        catch (ArgumentException e)
        {
            string option = e.ParamName == "tokens" ? tokensOption : perStepOption;
            throw new ArgumentException($"{option}: {e.Message.Replace("tokensPerStep", perStepOption, StringComparison.Ordinal)}", option, e);
        }
    }

    /// <summary>The value of an integer option that must be at least 1.</summary>
    public static int Positive(int value, string option) => value > 0
        ? value
        : throw new ArgumentOutOfRangeException(option, value, $"{option} must be at least 1 (valid range: 1 and above), but was {value}.");

    /// <summary>An enum option written in kebab case (<c>residual-blocks</c>), case-insensitive.</summary>
    public static T ParseEnum<T>(ArgumentResult result, string option) where T : struct, Enum
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var key = text.Replace("-", string.Empty, StringComparison.Ordinal);
        if (Enum.TryParse<T>(key, ignoreCase: true, out var value) && Enum.IsDefined(value))
        {
            return value;
        }

        result.AddError($"{option} must be one of {string.Join(", ", Enum.GetNames<T>().Select(Kebab))}, but was '{text}'.");
        return default;
    }

    /// <summary>A type or member name in kebab case: <c>HiddenWeight</c> is <c>hidden-weight</c>.</summary>
    public static string Kebab(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Runs <paramref name="create"/>; an engine error is re-thrown naming the command-line option that set the bad value.</summary>
    private static T NamingOptions<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e) when (e.ParamName is { } p && OptionOf.TryGetValue(p, out var option))
        {
            throw new ArgumentException($"{option}: {WithOptionNames(e.Message)}", option, e);
        }
        catch (ArgumentException e) when (e.ParamName is "hyperparameters" or "options")
        {
            // A number of the rules leaves the range of a double: the message names the engine's inputs; say which options set them.
            throw new ArgumentException(WithOptionNames(e.Message), e.ParamName, e);
        }
    }

    /// <summary>An engine message with the option that sets each engine input written beside its name.</summary>
    public static string WithOptionNames(string message) =>
        EngineNames.Aggregate(message, (m, n) => m.Replace(n.Engine, $"{n.Option} ({n.Engine})", StringComparison.Ordinal));

    /// <summary>The engine's names of the inputs its range errors list, and the options that set them.</summary>
    private static readonly (string Engine, string Option)[] EngineNames =
    [
        ("hyperparameters.LearningRate", "--lr"), ("hyperparameters.InitStd", "--init-std"), ("hyperparameters.WeightDecay", "--weight-decay"),
        ("hyperparameters.AdamEpsilon", "--eps"), ("options.InputMultiplier", "--alpha-in"), ("options.OutputMultiplier", "--alpha-out"),
        ("options.AttentionMultiplier", "--alpha-attn"), ("hyperparameters.Beta1", "--beta1"), ("hyperparameters.Beta2", "--beta2"),
        ("targetTraining.TokensPerStep", "--tokens-per-step"), ("options.TimescaleExponent", "--timescale-exponent"),
    ];

    private static int GreatestCommonDivisor(int a, int b) => b == 0 ? a : GreatestCommonDivisor(b, a % b);
}
