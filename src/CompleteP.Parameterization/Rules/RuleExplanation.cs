namespace CompleteP;

/// <summary>
/// The numbers of a <see cref="TensorRule"/> with the formula that produced each
/// (<c>eta * m_N^-1 * m_L^(alpha-1)</c>) and the same formula with the numbers put in.
/// </summary>
/// <param name="Init">The init: normal with a standard deviation, or a constant.</param>
/// <param name="LearningRate">The learning rate.</param>
/// <param name="WeightDecay">The weight decay, in the setup's <see cref="WeightDecayConvention"/>.</param>
/// <param name="AdamEpsilon">The Adam epsilon.</param>
/// <param name="Beta1">Adam's first-moment decay (<c>beta1</c>, or <c>1 - kappa*(1 - beta1)</c> with training shapes).</param>
/// <param name="Beta2">Adam's second-moment decay (<c>beta2</c>, or <c>1 - kappa*(1 - beta2)</c> with training shapes).</param>
public sealed record RuleExplanation(InitRule Init, ScaledValue LearningRate, ScaledValue WeightDecay, ScaledValue AdamEpsilon, ScaledValue Beta1, ScaledValue Beta2)
{
    /// <summary>The init: normal with a standard deviation, or a constant.</summary>
    public InitRule Init { get; internal init; } = Init;

    /// <summary>The learning rate.</summary>
    public ScaledValue LearningRate { get; internal init; } = LearningRate;

    /// <summary>The weight decay, in the setup's <see cref="WeightDecayConvention"/>.</summary>
    public ScaledValue WeightDecay { get; internal init; } = WeightDecay;

    /// <summary>The Adam epsilon.</summary>
    public ScaledValue AdamEpsilon { get; internal init; } = AdamEpsilon;

    /// <summary>Adam's first-moment decay: <c>beta1</c>, or <c>1 - kappa*(1 - beta1)</c> with training shapes.</summary>
    public ScaledValue Beta1 { get; internal init; } = Beta1;

    /// <summary>Adam's second-moment decay: <c>beta2</c>, or <c>1 - kappa*(1 - beta2)</c> with training shapes.</summary>
    public ScaledValue Beta2 { get; internal init; } = Beta2;
}
