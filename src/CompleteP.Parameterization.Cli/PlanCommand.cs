using System.CommandLine;
using System.Globalization;

namespace CompleteP.Cli;

/// <summary><c>completep plan</c>: prints the rules of one configuration as a table, markdown or JSON.</summary>
internal static class PlanCommand
{
    private static readonly string[] Headers = ["tensor role", "quantity", ">value", "formula", "numbers"];

    public static Command Create(TextWriter output)
    {
        var setup = new SetupOptions(headDimRequired: true);
        var format = new Option<string>("--format") { Description = "table (default), markdown or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "markdown", "json");

        var command = new Command("plan", "Print the per-role rules (init, LR, weight decay, Adam epsilon, multipliers) of one configuration.");
        foreach (var option in setup.All.Append(format))
        {
            command.Options.Add(option);
        }

        command.SetAction(r =>
        {
            var rules = setup.Read(r);
            switch (r.GetValue(format))
            {
                case "json":
                    output.WriteLine(PlanJson.SerializeRoleSummary(rules));
                    break;
                case "markdown":
                    ConsoleTable.WriteMarkdown(output, Title(rules), Headers,
                        Rows(rules).Select(x => new[] { x.Group, x.Quantity, ScaledValue.Format(x.Value.Value), $"`{x.Value.Formula}`", $"`{x.Value.Substitution}`" }));
                    break;
                default:
                    ConsoleTable.Write(output, Title(rules), Headers, TableRows(rules));
                    break;
            }

            if (r.GetValue(format) != "json")
            {
                // The JSON lists them under "warnings".
                foreach (var warning in TrainingRules.Warnings(rules.Setup))
                {
                    output.WriteLine(warning);
                }

                // A role entry is in its role's numbers (hp[...] in the formulas); a name pattern needs a model's tensor names.
                foreach (var module in rules.Setup.Hyperparameters.Modules.Where(m => m.IsPattern && m.Field != HyperparameterField.ResidualMultiplier))
                {
                    output.WriteLine($"hp {module}: a parameter-name pattern, applied to the tensors whose names it matches when a model is planned " +
                                     "(Parameterize.Apply, nanogpt plan); the per-role numbers above do not include it.");
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>Rows of (quantity, value, formula, numbers) for every multiplier and every role's four numbers.</summary>
    private static IEnumerable<(string Group, string Quantity, ScaledValue Value)> Rows(RuleSet rules)
    {
        yield return ("model", "residual multiplier", rules.Multipliers.Residual);
        foreach (var branch in rules.Setup.Hyperparameters.ResidualMultipliers)
        {
            // A per-branch factor (--hp PATTERN.res=F): the multiplier of a branch that this entry alone matches.
            yield return ("model", $"residual multiplier of '{branch.Selector}'", RulesEngine.BranchResidual(rules.Setup, [branch]));
        }

        yield return ("model", "output multiplier", rules.Multipliers.Output);
        yield return ("model", "embedding multiplier", rules.Multipliers.Embedding);
        yield return ("model", "attention scale", rules.Multipliers.AttentionScale);
        foreach (var (role, rule) in rules.Roles)
        {
            var name = SetupOptions.Kebab(role.ToString()).Replace('-', ' ');
            yield return (name, rule.InitKind == InitKind.Normal ? "init std" : "init value", rule.Explained.Init.Value);
            yield return (name, "learning rate", rule.Explained.LearningRate);
            yield return (name, "weight decay", rule.Explained.WeightDecay);
            yield return (name, "adam epsilon", rule.Explained.AdamEpsilon);
            if (rules.Setup.Training is not null)
            {
                yield return (name, "beta1", rule.Explained.Beta1);
                yield return (name, "beta2", rule.Explained.Beta2);
            }
            if (role == TensorRole.HiddenWeight && rules.Setup.Options.Gpt2OutputProjectionInit)
            {
                var projection = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: true));
                yield return (name, "init std (residual output projections, GPT-2)", projection.Explained.Init.Value);
            }
        }
    }

    /// <summary>The rows of the boxed table: the role named on its first row only, an empty row between roles.</summary>
    private static IEnumerable<IReadOnlyList<string>?> TableRows(RuleSet rules)
    {
        string previous = string.Empty;
        foreach (var (group, quantity, value) in Rows(rules))
        {
            if (previous.Length > 0 && group != previous)
            {
                yield return null;
            }

            yield return [group == previous ? string.Empty : group, quantity, ScaledValue.Format(value.Value), value.Formula, value.Substitution];
            previous = group;
        }
    }

    private static string Title(RuleSet rules) =>
        string.Create(CultureInfo.InvariantCulture, $"{rules.Setup.Parameterization}: {rules.Setup.Scaling}, d_head {rules.Setup.HeadDim}")
        + (rules.Setup.Training is { } training ? $"; {training}" : string.Empty);
}
