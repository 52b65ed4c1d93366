using System.CommandLine;
using System.Globalization;
using CompleteP.Rules;
using Spectre.Console;

namespace CompleteP.Cli;


/// <summary><c>completep plan</c>: prints the rules of one configuration as a table, markdown or JSON.</summary>
internal static class PlanCommand
{
    public static Command Create(TextWriter output)
    {
        var parameterization = new Option<string>("--parameterization", "-p") { Description = "sp, mup, completep, depth-mup (or alpha=A)", Required = true };
        var alpha = new Option<double?>("--alpha") { Description = "depth exponent in [0.5, 1] for completep (default 1) or depth-mup (default 0.5)" };
        var baseWidth = new Option<int>("--base-width") { Description = "width N_base the base hyperparameters were tuned at", Required = true };
        var width = new Option<int>("--width") { Description = "width N (d_model) of the target model", Required = true };
        var baseDepth = new Option<int>("--base-depth") { Description = "depth L_base (blocks) the base hyperparameters were tuned at", Required = true };
        var depth = new Option<int>("--depth") { Description = "depth L (blocks) of the target model", Required = true };
        var headDim = new Option<int>("--head-dim") { Description = "attention head dimension d_head (fixed as width grows)", Required = true };
        var lr = new Option<double>("--lr") { Description = "base learning rate eta", Required = true };
        var initStd = new Option<double>("--init-std") { Description = "base init std sigma", DefaultValueFactory = _ => 0.02 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "base AdamW weight decay lambda", DefaultValueFactory = _ => 0.0 };
        var eps = new Option<double>("--eps") { Description = "base Adam epsilon", DefaultValueFactory = _ => 1e-8 };
        var epsilonScope = new Option<EpsilonScope>("--epsilon-scope") { Description = "residual-blocks (Table 1, default) or global (reference code)", DefaultValueFactory = _ => EpsilonScope.ResidualBlocks, CustomParser = r => ParseEnum<EpsilonScope>(r, "--epsilon-scope") };
        var decay = new Option<WeightDecayConvention>("--weight-decay-convention") { Description = "coupled (PyTorch AdamW, default) or independent", DefaultValueFactory = _ => WeightDecayConvention.Coupled, CustomParser = r => ParseEnum<WeightDecayConvention>(r, "--weight-decay-convention") };
        var gpt2 = new Option<bool>("--gpt2-output-init") { Description = "SP only: GPT-2's sigma / sqrt(2L) init for residual output projections" };
        var alphaIn = new Option<double>("--alpha-in") { Description = "embedding output multiplier", DefaultValueFactory = _ => 1.0 };
        var alphaOut = new Option<double>("--alpha-out") { Description = "unembedding (logit) multiplier", DefaultValueFactory = _ => 1.0 };
        var alphaAttn = new Option<double>("--alpha-attn") { Description = "attention logit multiplier", DefaultValueFactory = _ => 1.0 };
        var format = new Option<string>("--format") { Description = "table (default), markdown or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "markdown", "json");

        var command = new Command("plan", "Print the per-role rules (init, LR, weight decay, Adam epsilon, multipliers) of one configuration.")
        {
            parameterization, alpha, baseWidth, width, baseDepth, depth, headDim, lr, initStd, weightDecay, eps,
            epsilonScope, decay, gpt2, alphaIn, alphaOut, alphaAttn, format,
        };

        command.SetAction(r =>
        {
            var rules = RulesEngine.Compute(NamingOptions(() => new RuleSetup(
                Parameterization.Parse(r.GetValue(parameterization)!, r.GetValue(alpha)),
                new ModelShape(OptionValues.Positive(r.GetValue(baseWidth), "--base-width"), OptionValues.Positive(r.GetValue(baseDepth), "--base-depth")),
                new ModelShape(OptionValues.Positive(r.GetValue(width), "--width"), OptionValues.Positive(r.GetValue(depth), "--depth")),
                OptionValues.Positive(r.GetValue(headDim), "--head-dim"),
                new BaseHyperparameters(r.GetValue(lr), r.GetValue(initStd), r.GetValue(weightDecay), r.GetValue(eps)),
                new RuleOptions
                {
                    EpsilonScope = r.GetValue(epsilonScope),
                    WeightDecayConvention = r.GetValue(decay),
                    Gpt2OutputProjectionInit = r.GetValue(gpt2),
                    InputMultiplier = r.GetValue(alphaIn),
                    OutputMultiplier = r.GetValue(alphaOut),
                    AttentionMultiplier = r.GetValue(alphaAttn),
                })));
            switch (r.GetValue(format))
            {
                case "json":
                    output.WriteLine(PlanJson.SerializeRoleSummary(rules));
                    break;
                case "markdown":
                    WriteMarkdown(rules, output);
                    break;
                default:
                    WriteTable(rules, output);
                    break;
            }

            return 0;
        });
        return command;
    }

    /// <summary>The engine's parameter names and the options that set them.</summary>
    private static readonly Dictionary<string, string> OptionOf = new(StringComparer.Ordinal)
    {
        ["name"] = "--parameterization", ["alpha"] = "--alpha", ["headDim"] = "--head-dim", ["learningRate"] = "--lr",
        ["initStd"] = "--init-std", ["weightDecay"] = "--weight-decay", ["adamEpsilon"] = "--eps", ["options"] = "--gpt2-output-init",
        ["InputMultiplier"] = "--alpha-in", ["OutputMultiplier"] = "--alpha-out", ["AttentionMultiplier"] = "--alpha-attn",
    };

    /// <summary>Runs <paramref name="create"/>; an engine error is re-thrown naming the command-line option that set the bad value.</summary>
    private static T NamingOptions<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e) when (e.ParamName is { } p && OptionOf.TryGetValue(p, out var option))
        {
            throw new ArgumentException($"{option}: {e.Message}", option, e);
        }
    }

    private static T ParseEnum<T>(System.CommandLine.Parsing.ArgumentResult result, string option) where T : struct, Enum
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

    private static string Kebab(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Rows of (quantity, value, formula, numbers) for every multiplier and every role's four numbers.</summary>
    private static IEnumerable<(string Group, string Quantity, ScaledValue Value)> Rows(RuleSet rules)
    {
        yield return ("model", "residual multiplier", rules.Multipliers.Residual);
        yield return ("model", "output multiplier", rules.Multipliers.Output);
        yield return ("model", "embedding multiplier", rules.Multipliers.Embedding);
        yield return ("model", "attention scale", rules.Multipliers.AttentionScale);
        foreach (var (role, rule) in rules.Roles)
        {
            var name = Kebab(role.ToString()).Replace('-', ' ');
            yield return (name, rule.InitKind == InitKind.Normal ? "init std" : "init value", rule.Explained.Init.Value);
            yield return (name, "learning rate", rule.Explained.LearningRate);
            yield return (name, "weight decay", rule.Explained.WeightDecay);
            yield return (name, "adam epsilon", rule.Explained.AdamEpsilon);
            if (role == TensorRole.HiddenWeight && rules.Setup.Options.Gpt2OutputProjectionInit)
            {
                var projection = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: true));
                yield return (name, "init std (residual output projections, GPT-2)", projection.Explained.Init.Value);
            }
        }
    }

    private static string Title(RuleSet rules) =>
        string.Create(CultureInfo.InvariantCulture, $"{rules.Setup.Parameterization}: {rules.Setup.Scaling}, d_head {rules.Setup.HeadDim}");

    private static void WriteTable(RuleSet rules, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        var table = new Table().Title(Title(rules)).Border(TableBorder.Rounded);
        table.AddColumn("tensor role");
        table.AddColumn("quantity");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddColumn("formula");
        table.AddColumn("numbers");
        string previous = string.Empty;
        foreach (var (group, quantity, value) in Rows(rules))
        {
            if (previous.Length > 0 && group != previous)
            {
                table.AddEmptyRow();
            }

            table.AddRow(Markup.Escape(group == previous ? string.Empty : group), Markup.Escape(quantity), ScaledValue.Format(value.Value),
                Markup.Escape(value.Formula), Markup.Escape(value.Substitution));
            previous = group;
        }

        console.Write(table);
    }

    private static void WriteMarkdown(RuleSet rules, TextWriter output)
    {
        output.WriteLine($"**{Title(rules)}**");
        output.WriteLine();
        output.WriteLine("| tensor role | quantity | value | formula | numbers |");
        output.WriteLine("|---|---|---:|---|---|");
        foreach (var (group, quantity, value) in Rows(rules))
        {
            output.WriteLine($"| {group} | {quantity} | {ScaledValue.Format(value.Value)} | `{value.Formula}` | `{value.Substitution}` |");
        }
    }
}
