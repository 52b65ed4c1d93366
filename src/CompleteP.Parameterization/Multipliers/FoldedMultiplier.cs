namespace CompleteP;

/// <summary>A forward multiplier that lives in one tensor's values instead of in the forward pass.</summary>
/// <param name="Kind">Which multiplier.</param>
/// <param name="Value">Its value <c>c</c>, with its formula.</param>
public sealed record FoldedMultiplier(MultiplierKind Kind, ScaledValue Value)
{
    /// <summary>Which multiplier.</summary>
    public MultiplierKind Kind { get; internal init; } = Kind;

    /// <summary>Its value <c>c</c>, with its formula.</summary>
    public ScaledValue Value { get; internal init; } = Value;

    /// <inheritdoc />
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Value}";
}
