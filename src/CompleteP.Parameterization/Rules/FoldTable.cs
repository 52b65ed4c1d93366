namespace CompleteP;

/// <summary>
/// Which forward multiplier may live in the tensors of each role: the one table the engine checks every fold against
/// (<see cref="RulesEngine.Compute"/>) and the adapter places folds by. A multiplier <c>c</c> in front of a map that is
/// linear in a tensor can be folded into it (docs/rules.md, "Folding forward multipliers into weights"):
/// <list type="bullet">
/// <item>the residual multiplier into what writes a branch's output: its output projections (hidden weights and biases)
/// or, where a norm acts on the branch's output, that norm's gain and shift (hidden norm);</item>
/// <item>the unembedding multiplier into the readout, or into the final norm's gain and shift when the readout is tied to
/// the embedding or the logits come from the table;</item>
/// <item><c>alpha_in</c> into the embeddings;</item>
/// <item><c>m_N^-1</c> into an output-like Linear inside a block (an MoE router).</item>
/// </list>
/// A QK-norm's gain carries none: nothing scales a query by a model-level multiplier.
/// </summary>
internal static class FoldTable
{
    /// <summary>The multiplier the tensors of a role may carry, or null for none.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The kind of multiplier, or null.</returns>
    internal static MultiplierKind? For(TensorRole role) => role switch
    {
        TensorRole.HiddenWeight or TensorRole.HiddenBias or TensorRole.HiddenNorm => MultiplierKind.Residual,
        TensorRole.Unembedding or TensorRole.FinalNorm => MultiplierKind.Output,
        TensorRole.Embedding => MultiplierKind.Embedding,
        TensorRole.BlockReadout => MultiplierKind.BlockReadout,
        _ => null,
    };
}
