namespace CompleteP;

/// <summary>How one tensor is initialized: a normal draw with a standard deviation, or a constant.</summary>
public sealed record InitRule
{
    /// <summary>Creates an init rule.</summary>
    /// <param name="kind">Normal draw or constant fill.</param>
    /// <param name="value">The standard deviation (normal) or the constant.</param>
    /// <exception cref="ArgumentOutOfRangeException">A normal init's std is negative or not finite.</exception>
    internal InitRule(InitKind kind, ScaledValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (kind == InitKind.Normal && (!double.IsFinite(value.Value) || value.Value < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Value, "A normal init's standard deviation must be finite and at least 0.");
        }

        Kind = kind;
        Value = value;
    }

    /// <summary>Normal draw or constant fill.</summary>
    public InitKind Kind { get; }

    /// <summary>The standard deviation of a normal draw, or the constant of a constant fill.</summary>
    public ScaledValue Value { get; }

    /// <summary>A normal draw with mean 0 and standard deviation <paramref name="std"/>.</summary>
    /// <param name="std">The standard deviation.</param>
    /// <returns>The rule.</returns>
    internal static InitRule Normal(ScaledValue std) => new(InitKind.Normal, std);

    /// <summary>A constant fill.</summary>
    /// <param name="value">The constant.</param>
    /// <returns>The rule.</returns>
    internal static InitRule Constant(double value) => new(InitKind.Constant, ScaledValue.Constant(value));

    /// <inheritdoc />
    public override string ToString() => Kind == InitKind.Normal ? $"N(0, std {Value})" : $"constant {ScaledValue.Format(Value.Value)}";
}
