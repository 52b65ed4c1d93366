namespace CompleteP;

/// <summary>
/// The numbers of a <see cref="TensorRule"/> with the formula that produced each
/// (<c>eta * m_N^-1 * m_L^(alpha-1)</c>) and the same formula with the numbers put in.
/// </summary>
/// <param name="Init">The init: normal with a standard deviation, or a constant.</param>
/// <param name="LearningRate">The learning rate.</param>
/// <param name="WeightDecay">The weight decay, in the setup's <see cref="WeightDecayConvention"/>.</param>
/// <param name="AdamEpsilon">The Adam epsilon.</param>
public sealed record RuleExplanation(InitRule Init, ScaledValue LearningRate, ScaledValue WeightDecay, ScaledValue AdamEpsilon)
{
    /// <summary>The init: normal with a standard deviation, or a constant.</summary>
    public InitRule Init { get; internal init; } = Init;

    /// <summary>The learning rate.</summary>
    public ScaledValue LearningRate { get; internal init; } = LearningRate;

    /// <summary>The weight decay, in the setup's <see cref="WeightDecayConvention"/>.</summary>
    public ScaledValue WeightDecay { get; internal init; } = WeightDecay;

    /// <summary>The Adam epsilon.</summary>
    public ScaledValue AdamEpsilon { get; internal init; } = AdamEpsilon;
}
