namespace CompleteP;

/// <summary>Which of Table 1's forward multipliers acts on a tensor's output.</summary>
public enum MultiplierKind
{
    /// <summary>The residual-branch multiplier <c>m_L^-alpha</c>, on the output of each residual branch (its output projection).</summary>
    Residual,

    /// <summary>The unembedding multiplier <c>alpha_out * m_N^-1</c>, on the logits (the readout's output).</summary>
    Output,

    /// <summary>The embedding multiplier <c>alpha_in</c>, on the embeddings' output.</summary>
    Embedding,

    /// <summary>The width multiplier <c>m_N^-1</c> on the output of an output-like Linear inside a block (<see cref="TensorRole.BlockReadout"/>: an MoE router's logits).</summary>
    BlockReadout,
}
