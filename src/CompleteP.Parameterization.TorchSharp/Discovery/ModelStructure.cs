namespace CompleteP.Discovery;

/// <summary>What the discovery found in a module tree.</summary>
/// <param name="Tree">The module tree.</param>
/// <param name="BlocksDescription">Where the blocks are (their container, or a pattern); empty for a width-only model.</param>
/// <param name="Blocks">The residual blocks, in order; empty for a width-only model (an MLP).</param>
/// <param name="Branches">Every block's residual branches.</param>
/// <param name="Inputs">The input modules (embeddings, input layers).</param>
/// <param name="Readout">The readout (unembedding) module, or null.</param>
/// <param name="AttentionModules">The modules implementing <see cref="IScaledAttention"/>, with their names.</param>
/// <param name="Parameters">Every unique parameter tensor with its role.</param>
/// <param name="Width">The width N (the size of the residual stream).</param>
/// <param name="Diagnostics">What the discovery decided or noticed.</param>
internal sealed record ModelStructure(
    ModuleTree Tree,
    string BlocksDescription,
    IReadOnlyList<TreeModule> Blocks,
    IReadOnlyList<ResidualBranch> Branches,
    IReadOnlyList<TreeModule> Inputs,
    TreeModule? Readout,
    IReadOnlyList<(string Name, IScaledAttention Module)> AttentionModules,
    IReadOnlyList<DiscoveredParameter> Parameters,
    int Width,
    IReadOnlyList<PlanDiagnostic> Diagnostics)
{
    /// <summary>The number of blocks (0 for a width-only model).</summary>
    public int Depth => Blocks.Count;

    /// <summary>Where the width came from, for messages (<c>the block norms 'ln_1', 'ln_2' of 'h.0' and the embedding 'wte'</c>).</summary>
    public string WidthSource { get; init; } = string.Empty;

    /// <summary>The depth declared with <c>.Depth(n)</c>, or null.</summary>
    public int? DeclaredDepth { get; init; }

    /// <summary>The depth <c>L</c> that m_L counts: the declared depth, else the number of blocks.</summary>
    public int RuleDepth => DeclaredDepth ?? Blocks.Count;

    /// <summary>The blocks' names.</summary>
    public IReadOnlyList<string> BlockNames => Blocks.Select(b => b.Name).ToList();

    /// <summary>Whether the readout's weight is also an input's table (a tied embedding and readout).</summary>
    public bool ReadoutIsTied => Parameters.Any(p => p.IsReadout && p.IsInput && !p.IsBias);

    /// <summary>The index of the block that holds a module or tensor name, or -1 outside the blocks.</summary>
    public int BlockIndexOf(string name)
    {
        for (int i = 0; i < Blocks.Count; i++)
        {
            if (ModuleTree.IsInside(name, Blocks[i].Name))
            {
                return i;
            }
        }

        return -1;
    }
}
