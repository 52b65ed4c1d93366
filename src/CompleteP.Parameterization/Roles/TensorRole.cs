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
}
