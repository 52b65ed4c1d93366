namespace CompleteP;

/// <summary>How the forward multipliers reach the forward pass.</summary>
public enum MultiplierMode
{
    /// <summary>
    /// Folded into the weights (the default): a multiplier <c>c</c> on a linear map is stored in its weight
    /// and bias (<c>V = c W</c>), which then train with init <c>c s</c>, learning rate <c>c eta</c>, Adam epsilon
    /// <c>e / c</c> and coupled weight decay <c>lambda / c</c>: the same trajectory under Adam(W), whatever way the
    /// model invokes its modules (rules.md, "Folding forward multipliers into weights"). Forward hooks are
    /// used only where folding cannot express the rule (a readout tied to the embedding), and are verified.
    /// </summary>
    Fold,

    /// <summary>
    /// Forward hooks on the residual branches, the embeddings and the readout multiply their outputs, as the
    /// paper writes the model. TorchSharp runs a hook only for <c>module.call(x)</c>, never for
    /// <c>module.forward(x)</c>: every hook is verified to fire.
    /// </summary>
    Hooks,
}
