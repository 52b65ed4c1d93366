using System.Globalization;
using System.Text;

namespace CompleteP;

/// <summary>
/// What the library decided for one model: the setup, the model-level forward multipliers, one row per
/// parameter tensor with its rule and what was applied to it, the multipliers applied by hooks, the
/// attention modules whose scale was set, and the diagnostics. Immutable; compares by value; printable as
/// a table; serializable to JSON and back without loss (<see cref="PlanJson"/>).
/// </summary>
public sealed record ParameterizationPlan
{
    /// <summary>Creates a plan.</summary>
    /// <param name="setup">The setup the rules were computed for.</param>
    /// <param name="multipliers">The model-level forward multipliers.</param>
    /// <param name="rows">One row per parameter tensor; names must be unique.</param>
    /// <param name="hooks">The multipliers applied by forward hooks; empty when every multiplier is folded or 1.</param>
    /// <param name="scaledAttentionModules">The attention modules whose logit scale was set to <see cref="ForwardMultipliers.AttentionScale"/>.</param>
    /// <param name="diagnostics">What Apply decided or noticed.</param>
    /// <exception cref="ArgumentException">Two rows have the same name.</exception>
    internal ParameterizationPlan(RuleSetup setup, ForwardMultipliers multipliers, IReadOnlyList<PlanRow> rows,
        IReadOnlyList<MultiplierHook>? hooks = null, IReadOnlyList<string>? scaledAttentionModules = null, IReadOnlyList<PlanDiagnostic>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(multipliers);
        ArgumentNullException.ThrowIfNull(rows);
        var duplicate = rows.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The plan has two rows named '{duplicate.Key}'.", nameof(rows));
        }

        Setup = setup;
        Multipliers = multipliers;
        Rows = rows.ToArray();
        Hooks = hooks?.ToArray() ?? [];
        ScaledAttentionModules = scaledAttentionModules?.ToArray() ?? [];
        Diagnostics = diagnostics?.ToArray() ?? [];
    }

    /// <summary>Creates a plan from computed rules and the model's rows.</summary>
    /// <param name="rules">The rules of the setup.</param>
    /// <param name="rows">One row per parameter tensor.</param>
    /// <param name="hooks">The multipliers applied by forward hooks.</param>
    /// <param name="scaledAttentionModules">The attention modules whose logit scale was set.</param>
    /// <param name="diagnostics">What was decided or noticed.</param>
    /// <returns>The plan.</returns>
    internal static ParameterizationPlan Create(RuleSet rules, IEnumerable<PlanRow> rows, IEnumerable<MultiplierHook>? hooks = null,
        IEnumerable<string>? scaledAttentionModules = null, IEnumerable<PlanDiagnostic>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(rows);
        return new ParameterizationPlan(rules.Setup, rules.Multipliers, rows.ToArray(), hooks?.ToArray(), scaledAttentionModules?.ToArray(), diagnostics?.ToArray());
    }

    /// <summary>The setup the rules were computed for.</summary>
    public RuleSetup Setup { get; }

    /// <summary>The model-level forward multipliers (Table 1): residual, output, embedding, attention scale.</summary>
    public ForwardMultipliers Multipliers { get; }

    /// <summary>One row per parameter tensor, in the model's order.</summary>
    public IReadOnlyList<PlanRow> Rows { get; }

    /// <summary>The multipliers applied by forward hooks (where folding cannot express the rule); empty when none.</summary>
    public IReadOnlyList<MultiplierHook> Hooks { get; }

    /// <summary>The attention modules (<c>IScaledAttention</c>) whose logit scale was set to <see cref="ForwardMultipliers.AttentionScale"/>.</summary>
    public IReadOnlyList<string> ScaledAttentionModules { get; }

    /// <summary>What Apply decided or noticed: guessed roles, buffers that will not train, how the attention scale and the hooks are handled.</summary>
    public IReadOnlyList<PlanDiagnostic> Diagnostics { get; }

    /// <summary>The row of a parameter.</summary>
    /// <param name="name">The parameter's name (or another name of a tied tensor).</param>
    /// <returns>Its row.</returns>
    /// <exception cref="KeyNotFoundException">No row has that name.</exception>
    public PlanRow this[string name] => Rows.FirstOrDefault(r => r.Name == name) ?? Rows.FirstOrDefault(r => r.SharedWith.Contains(name))
        ?? throw new KeyNotFoundException($"The plan has no parameter named '{name}'.");

    /// <summary>Value equality, the lists compared element by element.</summary>
    /// <param name="other">The other plan.</param>
    /// <returns>True when every member is equal.</returns>
    public bool Equals(ParameterizationPlan? other) =>
        other is not null && Setup == other.Setup && Multipliers == other.Multipliers && Rows.SequenceEqual(other.Rows)
        && Hooks.SequenceEqual(other.Hooks) && ScaledAttentionModules.SequenceEqual(other.ScaledAttentionModules) && Diagnostics.SequenceEqual(other.Diagnostics);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Setup, Multipliers, Rows.Count);

    /// <summary>
    /// The plan as an aligned text table: one line per parameter with shape, role, and the init, learning rate,
    /// weight decay and epsilon applied to it, and the multiplier folded into it; then the multipliers applied
    /// by hooks, the attention scale and the warnings. With <paramref name="withFormulas"/>, the formula of
    /// each number follows on the next line.
    /// </summary>
    /// <param name="withFormulas">Whether to print each number's formula.</param>
    /// <returns>The table.</returns>
    public string ToTable(bool withFormulas = false)
    {
        static string F(double v) => ScaledValue.Format(v);

        // Where one multiplier value acts: "folded into N tensors", "hook on 'm' (xc)", or both; empty when nowhere.
        static string Placement(int foldedInto, IReadOnlyList<MultiplierHook> hooks) => string.Join("; ", new[]
        {
            foldedInto > 0 ? $"folded into {foldedInto} tensor{(foldedInto == 1 ? "" : "s")}" : null,
            hooks.Count > 0 ? $"hook on {string.Join(", ", hooks.Select(h => $"'{h.ModuleName}' (x{F(h.Value.Value)})"))}" : null,
        }.OfType<string>());

        var header = new[] { "parameter", "shape", "role", "init", "lr", "weight decay", "adam eps", "folded" };
        var lines = new List<string[]> { header };
        foreach (var row in Rows)
        {
            var r = row.Applied;
            string init = r.InitKind == InitKind.Normal ? $"N(0,{F(r.InitValue)})" : $"={F(r.InitValue)}";
            lines.Add([
                row.Name + (row.SharedWith.Count > 0 ? $" (= {string.Join(", ", row.SharedWith)})" : string.Empty) + (row.Trainable ? string.Empty : " [frozen]"),
                "[" + Listing.Shape(row.Shape) + "]",
                r.Role.ToString() + (r.IsBias ? " bias" : string.Empty),
                init, F(r.LearningRate), F(r.WeightDecay), F(r.AdamEpsilon),
                row.Folded is { } c ? $"x{F(c.Value.Value)} ({c.Kind.ToString().ToLowerInvariant()})" : "-",
            ]);
            if (withFormulas)
            {
                var e = r.Explained;
                lines.Add(["", "", "", e.Init.Value.Formula, e.LearningRate.Formula, e.WeightDecay.Formula, e.AdamEpsilon.Formula, row.Folded?.Value.Formula ?? ""]);
            }
        }

        var widths = Enumerable.Range(0, header.Length).Select(i => lines.Max(l => l[i].Length)).ToArray();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Setup.Parameterization}: {Setup.Scaling}, d_head {Setup.HeadDim}").AppendLine();
        if (Setup.Training is { } training)
        {
            // Batch size and length: the betas are the same for every tensor; the LR, decay and epsilon columns hold their factors.
            sb.Append(CultureInfo.InvariantCulture, $"training: {training}; beta1 {TrainingRules.Beta1(Setup)}, beta2 {TrainingRules.Beta2(Setup)}").AppendLine();
        }

        if (Setup.Hyperparameters.Modules.Count > 0)
        {
            // The factors are in the LR, init, decay and epsilon columns; the formulas (withFormulas) show each as hp[selector.field].
            sb.Append(CultureInfo.InvariantCulture, $"per-module base hyperparameters: {string.Join("; ", Setup.Hyperparameters.Modules)}").AppendLine();
        }

        var folded = Rows.Where(r => r.Folded is not null).GroupBy(r => r.Folded!.Kind).ToDictionary(g => g.Key, g => g.Count());
        foreach (var kind in Enum.GetValues<MultiplierKind>())
        {
            if (kind == MultiplierKind.Residual)
            {
                // Per-branch factors (res entries) give branches different residual multipliers: a line for each value.
                var placed = Rows.Where(r => r.Folded?.Kind == kind).Select(r => (Value: r.Folded!.Value, Hook: (MultiplierHook?)null))
                    .Concat(Hooks.Where(h => h.Kind == kind).Select(h => (h.Value, Hook: (MultiplierHook?)h)));
                foreach (var group in placed.GroupBy(x => x.Value))
                {
                    string where = Placement(group.Count(x => x.Hook is null), group.Where(x => x.Hook is not null).Select(x => x.Hook!).ToList());
                    sb.Append(CultureInfo.InvariantCulture, $"residual multiplier {group.Key}: {where}").AppendLine();
                }

                continue;
            }

            // The block-readout multiplier (m_N^-1 on an MoE router's logits) is no model-level multiplier: read it off where it acts.
            var value = kind != MultiplierKind.BlockReadout ? Multipliers[kind]
                : Rows.FirstOrDefault(r => r.Folded?.Kind == kind)?.Folded!.Value ?? Hooks.FirstOrDefault(h => h.Kind == kind)?.Value;
            if (value is null)
            {
                continue;
            }

            string how = Placement(folded.GetValueOrDefault(kind), Hooks.Where(h => h.Kind == kind).ToList());

            if (how.Length > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{kind.ToString().ToLowerInvariant()} multiplier {value}: {how}").AppendLine();
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"attention scale {Multipliers.AttentionScale}: {(ScaledAttentionModules.Count > 0 ? $"set on {ScaledAttentionModules.Count} IScaledAttention module(s)" : "not set by the library (see diagnostics)")}").AppendLine();
        for (int li = 0; li < lines.Count; li++)
        {
            sb.AppendJoin("  ", lines[li].Select((cell, i) => cell.PadRight(widths[i]))).Append('\n');
            if (li == 0)
            {
                sb.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
            }
        }

        foreach (var d in Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning))
        {
            sb.Append(d).Append('\n');
        }

        return sb.ToString();
    }
}
