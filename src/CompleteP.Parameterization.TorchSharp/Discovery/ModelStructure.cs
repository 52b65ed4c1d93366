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

    /// <summary>
    /// The final norm: the one module outside the blocks holding final-norm tensors (none shared) that is registered after
    /// the last block, or null when there is none or several. Registration order is the cue here because a norm before the
    /// blocks (an embedding norm) is also a final-norm-role module, and folding the logit multiplier into it would be wrong;
    /// a final norm registered before the blocks is therefore not found, and a tied head then gets a hook (safe: proven on
    /// the sample forward or refused).
    /// </summary>
    public TreeModule? FinalNorm
    {
        get
        {
            if (Blocks.Count == 0)
            {
                return null;
            }

            int lastBlock = Blocks[^1].Index;
            var norms = Parameters.Where(p => p.Role == TensorRole.FinalNorm && p.SharedWith.Count == 0).Select(p => Tree.Find(p.ModuleName)!)
                .Distinct().Where(n => n.Index > lastBlock).ToList();
            return norms.Count == 1 ? norms[0] : null;
        }
    }

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
