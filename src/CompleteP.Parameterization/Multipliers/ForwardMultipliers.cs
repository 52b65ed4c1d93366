namespace CompleteP;

/// <summary>
/// The model-level forward multipliers of a setup (Dey et al. 2025, Table 1), held once: the engine
/// computes them into <see cref="RuleSet.Multipliers"/> and a plan carries the same value.
/// Whether each one acts by being folded into weights or through a hook is recorded per tensor
/// (<see cref="PlanRow.Folded"/>) and per module (<see cref="ParameterizationPlan.Hooks"/>).
/// </summary>
/// <param name="Residual">The residual-branch multiplier <c>m_L^-alpha</c>: <c>x + m_L^-alpha * branch(LN(x))</c>; 1 for SP and muP.</param>
/// <param name="Output">The unembedding (logit) multiplier <c>alpha_out * m_N^-1</c>; <c>alpha_out</c> for SP.</param>
/// <param name="Embedding">The embedding-output multiplier <c>alpha_in</c>.</param>
/// <param name="AttentionScale">The attention-logit scale: <c>alpha_attn / d_head</c> for muP and depth-scaled, <c>alpha_attn / sqrt(d_head)</c> for SP.</param>
public sealed record ForwardMultipliers(ScaledValue Residual, ScaledValue Output, ScaledValue Embedding, ScaledValue AttentionScale)
{
    /// <summary>The residual-branch multiplier <c>m_L^-alpha</c>: <c>x + m_L^-alpha * branch(LN(x))</c>; 1 for SP and muP.</summary>
    public ScaledValue Residual { get; internal init; } = Residual;

    /// <summary>The unembedding (logit) multiplier <c>alpha_out * m_N^-1</c>; <c>alpha_out</c> for SP.</summary>
    public ScaledValue Output { get; internal init; } = Output;

    /// <summary>The embedding-output multiplier <c>alpha_in</c>.</summary>
    public ScaledValue Embedding { get; internal init; } = Embedding;

    /// <summary>The attention-logit scale: <c>alpha_attn / d_head</c> for muP and depth-scaled, <c>alpha_attn / sqrt(d_head)</c> for SP.</summary>
    public ScaledValue AttentionScale { get; internal init; } = AttentionScale;

    /// <summary>The value of one kind of multiplier.</summary>
    /// <param name="kind">Which multiplier.</param>
    /// <returns>Its value with its formula.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not defined.</exception>
    public ScaledValue this[MultiplierKind kind] => kind switch
    {
        MultiplierKind.Residual => Residual,
        MultiplierKind.Output => Output,
        MultiplierKind.Embedding => Embedding,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind must be Residual, Output or Embedding."),
    };
}
