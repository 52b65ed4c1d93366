namespace CompleteP;

/// <summary>
/// The step from the base shape (where the base hyperparameters were tuned) to the target
/// shape (the model being trained), and the two multipliers that the rules use:
/// the width multiplier <c>m_N = N / N_base</c> and the depth multiplier <c>m_L = L / L_base</c>.
/// </summary>
public sealed record ShapeScaling
{
    /// <summary>Creates the scaling from <paramref name="baseShape"/> to <paramref name="target"/>.</summary>
    /// <param name="baseShape">The shape the base hyperparameters were tuned at.</param>
    /// <param name="target">The shape of the model being trained.</param>
    /// <exception cref="ArgumentNullException">A shape is null.</exception>
    internal ShapeScaling(ModelShape baseShape, ModelShape target)
    {
        ArgumentNullException.ThrowIfNull(baseShape);
        ArgumentNullException.ThrowIfNull(target);
        Base = baseShape;
        Target = target;
    }

    /// <summary>The shape the base hyperparameters were tuned at (<c>N_base</c>, <c>L_base</c>).</summary>
    public ModelShape Base { get; }

    /// <summary>The shape of the model being trained (<c>N</c>, <c>L</c>).</summary>
    public ModelShape Target { get; }

    /// <summary>The width multiplier <c>m_N = N / N_base</c>.</summary>
    public double WidthMultiplier => (double)Target.Width / Base.Width;

    /// <summary>The depth multiplier <c>m_L = L / L_base</c>.</summary>
    public double DepthMultiplier => (double)Target.Depth / Base.Depth;

    /// <summary>
    /// The width multiplier of one tensor, <c>fan_in / base_fan_in</c>. For a hidden weight whose
    /// fan-in is not <c>N</c> (the MLP down-projection has fan-in <c>4N</c>) this is the multiplier
    /// its rules use; with a fixed expansion ratio it equals <see cref="WidthMultiplier"/>.
    /// </summary>
    /// <param name="fanIn">The tensor's fan-in in the target model; at least 1.</param>
    /// <param name="baseFanIn">The same tensor's fan-in in the base model; at least 1.</param>
    /// <returns><paramref name="fanIn"/> / <paramref name="baseFanIn"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A fan-in is zero or negative.</exception>
    internal static double TensorWidthMultiplier(long fanIn, long baseFanIn)
    {
        Guard.Positive(fanIn, nameof(fanIn));
        Guard.Positive(baseFanIn, nameof(baseFanIn));
        return (double)fanIn / baseFanIn;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Base} -> {Target} (m_N = {WidthMultiplier:G6}, m_L = {DepthMultiplier:G6})";
}
