using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace CompleteP.Cli;

/// <summary>
/// <c>completep explain</c>: one number of a setup (a tensor role's init, learning rate, weight decay or Adam
/// epsilon, or a model-level multiplier) with its formula, the numbers put in, the value, and where the rule comes
/// from (the paper's table row and the section of docs/rules.md).
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(TextWriter output)
    {
        var setup = new SetupOptions(headDimRequired: false);
        var subject = new Argument<string?>("subject")
        {
            Description = $"a tensor role ({string.Join(", ", RuleExplainer.Roles)}) or a multiplier ({string.Join(", ", RuleExplainer.Multipliers)}); "
                + "without it, every role (and, without --quantity, every multiplier)",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "role|multiplier",
        };
        subject.AcceptOnlyFromAmong([.. RuleExplainer.Roles, .. RuleExplainer.Multipliers]);
        var quantity = new Option<string?>("--quantity", "-q") { Description = $"for a role: {string.Join(", ", RuleExplainer.Quantities)} (default: all four)" };
        quantity.AcceptOnlyFromAmong([.. RuleExplainer.Quantities]);
        var bias = new Option<bool>("--bias") { Description = "for a role: its bias (a norm's shift) instead of its weight (a norm's gain)" };
        var fanIn = new Option<long?>("--fan-in") { Description = "for a hidden weight whose fan-in scales unlike the width: its fan-in (with --base-fan-in)" };
        var baseFanIn = new Option<long?>("--base-fan-in") { Description = "that weight's fan-in in the base model" };
        var outputProjection = new Option<bool>("--output-projection") { Description = "for a hidden weight: a residual branch's output projection (GPT-2's init under --gpt2-output-init)" };
        var format = new Option<string>("--format") { Description = "text (default) or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");

        var command = new Command("explain", "Explain a number of one configuration: its formula, the numbers put in, the value, and the paper's table row and docs/rules.md section it comes from.")
        {
            subject,
        };
        foreach (var option in setup.All.Concat([quantity, bias, fanIn, baseFanIn, outputProjection, format]))
        {
            command.Options.Add(option);
        }

        command.SetAction(r =>
        {
            var rules = setup.Read(r);
            string? what = r.GetValue(subject);
            string? q = r.GetValue(quantity);
            bool headDimGiven = r.GetValue(setup.HeadDim) is not null;
            var explanations = new List<Explanation>();
            if (what is not null && RuleExplainer.Multipliers.Contains(what))
            {
                foreach (var (given, option) in new[] { (q is not null, "--quantity"), (r.GetValue(bias), "--bias"), (r.GetValue(fanIn) is not null, "--fan-in"),
                    (r.GetValue(baseFanIn) is not null, "--base-fan-in"), (r.GetValue(outputProjection), "--output-projection") })
                {
                    if (given)
                    {
                        throw new ArgumentException($"{option} applies to a tensor role, not to the multiplier {what}.", option);
                    }
                }

                if (what == "attention-scale" && !headDimGiven)
                {
                    throw new ArgumentException("--head-dim is required to explain the attention scale (alpha_attn / d_head), but was not given.", "--head-dim");
                }

                explanations.Add(RuleExplainer.Multiplier(rules, what));
            }
            else
            {
                if (what is null && q is null)
                {
                    explanations.AddRange(RuleExplainer.Multipliers.Where(m => m != "attention-scale" || headDimGiven).Select(m => RuleExplainer.Multiplier(rules, m)));
                }

                foreach (var role in what is null ? Enum.GetValues<TensorRole>() : [Enum.Parse<TensorRole>(what.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true)])
                {
                    var tensor = Tensor(role, r.GetValue(bias), r.GetValue(fanIn), r.GetValue(baseFanIn), r.GetValue(outputProjection), what is null);
                    try
                    {
                        explanations.AddRange(RuleExplainer.Tensor(rules, tensor, q));
                    }
                    catch (ArgumentOutOfRangeException e) when (e.ParamName == "tensor")
                    {
                        // The fan-in ratio takes a number of the rule out of the range of a double.
                        throw new ArgumentException($"--fan-in / --base-fan-in: {SetupOptions.WithOptionNames(e.Message)}", "--fan-in", e);
                    }
                }
            }

            string title = string.Create(CultureInfo.InvariantCulture,
                $"{rules.Setup.Parameterization}: {rules.Setup.Scaling}{(headDimGiven ? $", d_head {rules.Setup.HeadDim}" : string.Empty)}");
            if (r.GetValue(format) == "json")
            {
                WriteJson(output, rules, explanations);
            }
            else
            {
                WriteText(output, title, explanations);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The tensor the options describe; with every role asked for, a hidden bias is a bias and a hidden weight never is.</summary>
    private static TensorDescriptor Tensor(TensorRole role, bool bias, long? fanIn, long? baseFanIn, bool outputProjection, bool everyRole)
    {
        if (bias && role == TensorRole.HiddenWeight && !everyRole)
        {
            throw new ArgumentException("--bias: a hidden weight has no bias of its own; a Linear's bias in a block is the role hidden-bias.", "--bias");
        }

        if ((fanIn is not null || baseFanIn is not null || outputProjection) && role != TensorRole.HiddenWeight && !everyRole)
        {
            throw new ArgumentException($"--fan-in, --base-fan-in and --output-projection apply to hidden-weight, not to {SetupOptions.Kebab(role.ToString())}.", "--fan-in");
        }

        bool hiddenWeight = role == TensorRole.HiddenWeight;
        try
        {
            return new TensorDescriptor(role, isBias: role == TensorRole.HiddenBias || (bias && !hiddenWeight),
                fanIn: hiddenWeight ? fanIn : null, baseFanIn: hiddenWeight ? baseFanIn : null, isResidualOutputProjection: hiddenWeight && outputProjection);
        }
        catch (ArgumentException e) when (e.ParamName is "fanIn" or "baseFanIn")
        {
            string option = e.ParamName == "fanIn" ? "--fan-in" : "--base-fan-in";
            throw new ArgumentException($"{option}: {e.Message}", option, e);
        }
    }

    private static void WriteText(TextWriter output, string title, IReadOnlyList<Explanation> explanations)
    {
        output.WriteLine(title);
        foreach (var e in explanations)
        {
            output.WriteLine();
            output.WriteLine($"{e.Subject}: {e.Quantity} = {ScaledValue.Format(e.Value.Value)}");
            if (e.Symbols.Count == 0)
            {
                output.WriteLine($"  formula  {e.Value.Formula} (a constant of the rule)");
            }
            else
            {
                output.WriteLine($"  formula  {e.Value.Formula}");
                output.WriteLine($"  numbers  {e.Value.Substitution}");
                int width = e.Symbols.Max(s => s.Symbol.Length), valueWidth = e.Symbols.Max(s => ScaledValue.Format(s.Value).Length);
                for (int i = 0; i < e.Symbols.Count; i++)
                {
                    var s = e.Symbols[i];
                    output.WriteLine($"  {(i == 0 ? "where" : string.Empty),-7}  {s.Symbol.PadRight(width)} = {ScaledValue.Format(s.Value).PadRight(valueWidth)}  {s.Meaning}");
                }
            }

            output.WriteLine($"  source   {e.Source}");
            output.WriteLine($"  rules    docs/rules.md, {string.Join("; ", e.RulesSections.Select(s => $"\"{s}\""))}");
        }
    }

    private static void WriteJson(TextWriter output, RuleSet rules, IReadOnlyList<Explanation> explanations)
    {
        var document = new
        {
            parameterization = rules.Setup.Parameterization.Name,
            widthMultiplier = rules.WidthMultiplier,
            depthMultiplier = rules.DepthMultiplier,
            explanations = explanations.Select(e => new
            {
                subject = e.Subject,
                quantity = e.Quantity,
                value = e.Value.Value,
                formula = e.Value.Formula,
                numbers = e.Value.Substitution,
                symbols = e.Symbols.Select(s => new { symbol = s.Symbol, value = s.Value, meaning = s.Meaning }),
                source = e.Source,
                rulesSections = e.RulesSections,
            }),
        };
        output.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }
}
