namespace CompleteP;

/// <summary>
/// What a parameter tensor is in a pre-LN transformer, which decides its rule
/// (Dey et al. 2025, Table 1; <c>docs/rules.md</c>).
/// </summary>
public enum TensorRole
{
    /// <summary>Token and position embedding tables (and an LM head tied to the token embedding).</summary>
    Embedding,

    /// <summary>Gains and biases of the LayerNorms / RMSNorms inside the residual blocks.</summary>
    HiddenNorm,

    /// <summary>Every Linear weight inside the residual blocks: q/k/v or fused qkv, attention out, MLP up, gate and down.</summary>
    HiddenWeight,

    /// <summary>Biases of the Linears inside the residual blocks.</summary>
    HiddenBias,

    /// <summary>Gain and bias of the norm after the last block.</summary>
    FinalNorm,

    /// <summary>The readout (LM head) when it is not tied to the token embedding, and its bias.</summary>
    Unembedding,

    /// <summary>
    /// Gain (and shift) of a norm over the head dimension applied to queries or keys inside attention (QK-norm: Qwen3,
    /// OLMo-2, Gemma 3). No dimension of it scales with width: no width factor on its learning rate or epsilon
    /// (Complete(d)P, Mlodozeniec et al. 2025); inside a residual branch it keeps the block's depth factors.
    /// </summary>
    QkNorm,

    /// <summary>
    /// An output-like weight inside a residual block: only its fan-in scales with width (an MoE router, width -> experts).
    /// muP's classification gives it the readout's width rule (init sigma, learning rate eta, output x m_N^-1) and the
    /// block's depth factors.
    /// </summary>
    BlockReadout,
}
