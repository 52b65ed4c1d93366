using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using CompleteP.Rules;

namespace CompleteP;

/// <summary>
/// What the library decided for one model: the setup, the model-level forward multipliers and one
/// row per parameter tensor with its rule. Immutable; printable as a table; serializable to JSON
/// and back without loss (<see cref="PlanJson"/>).
/// </summary>
public sealed record ParameterizationPlan
{
    /// <summary>Creates a plan.</summary>
    /// <param name="setup">The setup the rules were computed for.</param>
    /// <param name="residualMultiplier">The residual-branch multiplier.</param>
    /// <param name="outputMultiplier">The unembedding (logit) multiplier.</param>
    /// <param name="embeddingMultiplier">The embedding-output multiplier.</param>
    /// <param name="attentionScale">The attention-logit scale.</param>
    /// <param name="rows">One row per parameter tensor; names must be unique.</param>
    /// <exception cref="ArgumentException">Two rows have the same name.</exception>
    [JsonConstructor]
    public ParameterizationPlan(RuleSetup setup, ScaledValue residualMultiplier, ScaledValue outputMultiplier,
        ScaledValue embeddingMultiplier, ScaledValue attentionScale, IReadOnlyList<PlanRow> rows)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(residualMultiplier);
        ArgumentNullException.ThrowIfNull(outputMultiplier);
        ArgumentNullException.ThrowIfNull(embeddingMultiplier);
        ArgumentNullException.ThrowIfNull(attentionScale);
        ArgumentNullException.ThrowIfNull(rows);
        var duplicate = rows.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The plan has two rows named '{duplicate.Key}'.", nameof(rows));
        }

        Setup = setup;
        ResidualMultiplier = residualMultiplier;
        OutputMultiplier = outputMultiplier;
        EmbeddingMultiplier = embeddingMultiplier;
        AttentionScale = attentionScale;
        Rows = rows.ToArray();
    }

    /// <summary>Creates a plan from computed rules and the model's rows.</summary>
    /// <param name="rules">The rules of the setup.</param>
    /// <param name="rows">One row per parameter tensor.</param>
    /// <returns>The plan.</returns>
    public static ParameterizationPlan Create(RuleSet rules, IEnumerable<PlanRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(rows);
        return new ParameterizationPlan(rules.Setup, rules.ResidualMultiplier, rules.OutputMultiplier, rules.EmbeddingMultiplier,
            rules.AttentionScale, rows.ToArray());
    }

    /// <summary>The setup the rules were computed for.</summary>
    public RuleSetup Setup { get; }

    /// <summary>The residual-branch multiplier <c>m_L^-alpha</c>.</summary>
    public ScaledValue ResidualMultiplier { get; }

    /// <summary>The unembedding (logit) multiplier.</summary>
    public ScaledValue OutputMultiplier { get; }

    /// <summary>The embedding-output multiplier.</summary>
    public ScaledValue EmbeddingMultiplier { get; }

    /// <summary>The attention-logit scale.</summary>
    public ScaledValue AttentionScale { get; }

    /// <summary>One row per parameter tensor, in the model's order.</summary>
    public IReadOnlyList<PlanRow> Rows { get; }

    /// <summary>The row of a parameter.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>Its row.</returns>
    /// <exception cref="KeyNotFoundException">No row has that name.</exception>
    public PlanRow this[string name] => Rows.FirstOrDefault(r => r.Name == name)
        ?? throw new KeyNotFoundException($"The plan has no parameter named '{name}'.");

    /// <summary>
    /// The plan as an aligned text table: one line per parameter with shape, role, init, LR,
    /// weight decay, epsilon and forward multiplier; with <paramref name="withFormulas"/>, the
    /// formula of each number follows on the next line.
    /// </summary>
    /// <param name="withFormulas">Whether to print each number's formula.</param>
    /// <returns>The table.</returns>
    public string ToTable(bool withFormulas = false)
    {
        static string F(double v) => ScaledValue.Format(v);
        var header = new[] { "parameter", "shape", "role", "init", "lr", "weight decay", "adam eps", "multiplier" };
        var lines = new List<string[]> { header };
        foreach (var row in Rows)
        {
            var r = row.Rule;
            string init = r.Init.Kind == InitKind.Normal ? $"N(0,{F(r.Init.Value.Value)})" : $"={F(r.Init.Value.Value)}";
            lines.Add([
                row.Name + (row.SharedWith.Count > 0 ? $" (= {string.Join(", ", row.SharedWith)})" : string.Empty) + (row.Trainable ? string.Empty : " [frozen]"),
                "[" + string.Join("x", row.Shape) + "]",
                r.Role.ToString() + (r.IsBias ? " bias" : string.Empty),
                init, F(r.LearningRate.Value), F(r.WeightDecay.Value), F(r.AdamEpsilon.Value), F(r.ForwardMultiplier.Value),
            ]);
            if (withFormulas)
            {
                lines.Add(["", "", "", r.Init.Value.Formula, r.LearningRate.Formula, r.WeightDecay.Formula, r.AdamEpsilon.Formula, r.ForwardMultiplier.Formula]);
            }
        }

        var widths = Enumerable.Range(0, header.Length).Select(i => lines.Max(l => l[i].Length)).ToArray();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Setup.Parameterization}: {Setup.Scaling}, d_head {Setup.HeadDim}").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"residual multiplier {ResidualMultiplier}; output multiplier {OutputMultiplier}; embedding multiplier {EmbeddingMultiplier}; attention scale {AttentionScale}").AppendLine();
        for (int li = 0; li < lines.Count; li++)
        {
            sb.AppendJoin("  ", lines[li].Select((cell, i) => cell.PadRight(widths[i]))).Append('\n');
            if (li == 0)
            {
                sb.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
            }
        }

        return sb.ToString();
    }
}
