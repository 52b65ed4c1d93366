using System.Text.Json.Serialization;
using CompleteP.Rules;

namespace CompleteP;

/// <summary>One parameter tensor of a model and the rule it follows.</summary>
public sealed record PlanRow
{
    /// <summary>Creates a row.</summary>
    /// <param name="name">The parameter's name in the model (e.g. <c>transformer.h.0.attn.c_attn.weight</c>).</param>
    /// <param name="shape">The tensor's shape.</param>
    /// <param name="rule">The rule it follows.</param>
    /// <param name="sharedWith">Other names of the same tensor (tied weights); empty if none.</param>
    /// <param name="residualBranch">The name of the residual branch that holds it, or null outside blocks.</param>
    /// <param name="trainable">False for a frozen tensor (no gradient): it keeps its values and joins no optimizer group.</param>
    /// <exception cref="ArgumentException">The name is empty or a dimension is negative.</exception>
    [JsonConstructor]
    public PlanRow(string name, IReadOnlyList<long> shape, TensorRule rule, IReadOnlyList<string>? sharedWith = null, string? residualBranch = null, bool trainable = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(rule);
        if (shape.Any(d => d < 0))
        {
            throw new ArgumentException($"shape of '{name}' has a negative dimension: [{string.Join(", ", shape)}].", nameof(shape));
        }

        Name = name;
        Shape = shape.ToArray();
        Rule = rule;
        SharedWith = sharedWith?.ToArray() ?? [];
        ResidualBranch = residualBranch;
        Trainable = trainable;
    }

    /// <summary>The parameter's name in the model.</summary>
    public string Name { get; }

    /// <summary>The tensor's shape.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The rule it follows.</summary>
    public TensorRule Rule { get; }

    /// <summary>Other names of the same tensor (tied weights); empty if none.</summary>
    public IReadOnlyList<string> SharedWith { get; }

    /// <summary>The residual branch (module name) whose output is scaled by the residual multiplier, or null outside blocks.</summary>
    public string? ResidualBranch { get; }

    /// <summary>False for a frozen tensor: it keeps its values and joins no optimizer group.</summary>
    public bool Trainable { get; }

    /// <summary>The number of elements of the tensor.</summary>
    [JsonIgnore]
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
