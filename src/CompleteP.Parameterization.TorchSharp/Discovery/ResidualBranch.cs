namespace CompleteP.Discovery;

/// <summary>
/// One residual branch <c>F_l</c> of a block (an attention, an MLP, a mixture of experts): the module whose output is
/// added to the residual stream, the Linears that write that output (its output projections: one, or every expert's down
/// projection), and the norm that acts on the branch's output where there is one (OLMo-2's <c>x + norm(attn(x))</c>,
/// Gemma's sandwich). The residual multiplier acts on what is added: folded into the output norm's gain and shift when
/// there is one (a multiplier before a norm is undone by it), else into the output projections.
/// </summary>
/// <param name="Module">The branch module.</param>
/// <param name="BlockIndex">The index of its block, from 0.</param>
/// <param name="OutputProjections">The Linears that write the branch's output; empty when they could not be told.</param>
/// <param name="HowFound">How the output projections were chosen, or why they could not be.</param>
/// <param name="OutputNorm">The norm applied to the branch's output before it is added to the residual stream, or null.</param>
internal sealed record ResidualBranch(TreeModule Module, int BlockIndex, IReadOnlyList<TreeModule> OutputProjections, string HowFound, TreeModule? OutputNorm = null)
{
    /// <summary>The branch's name in the model.</summary>
    public string Name => Module.Name;

    /// <summary>The modules whose outputs carry the residual multiplier: the output norm, else the output projections.</summary>
    public IReadOnlyList<TreeModule> Writers => OutputNorm is { } norm ? [norm] : OutputProjections;
}
