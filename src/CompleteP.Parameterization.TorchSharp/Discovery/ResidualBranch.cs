namespace CompleteP.Discovery;

/// <summary>
/// One residual branch <c>F_l</c> of a block (an attention or an MLP): the module whose output is added to the
/// residual stream, and the Linear that writes that output (its output projection), into which the residual
/// multiplier is folded.
/// </summary>
/// <param name="Module">The branch module.</param>
/// <param name="BlockIndex">The index of its block, from 0.</param>
/// <param name="OutputProjection">The Linear that writes the branch's output, or null when it could not be told.</param>
/// <param name="HowFound">How the output projection was chosen, or why it could not be.</param>
internal sealed record ResidualBranch(TreeModule Module, int BlockIndex, TreeModule? OutputProjection, string HowFound)
{
    /// <summary>The branch's name in the model.</summary>
    public string Name => Module.Name;
}
