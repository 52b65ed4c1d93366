namespace CompleteP.CoordinateChecks;

/// <summary>What a recorded module is, for the verdicts and the plots. Written in CSV in camelCase (<c>finalNorm</c>).</summary>
public enum ModuleKind
{
    /// <summary>Not one of the kinds below (a module recorded because a pattern named it).</summary>
    Other,

    /// <summary>An input: an embedding or input layer; its output enters the residual stream.</summary>
    Input,

    /// <summary>A residual block; its output is the residual stream after it.</summary>
    Block,

    /// <summary>A residual branch <c>F_l</c> (attention, MLP); its output is added to the residual stream.</summary>
    Branch,

    /// <summary>The Linear that writes a residual branch's output, recorded where the branch itself cannot be (it is not Tensor to Tensor).</summary>
    BranchOutput,

    /// <summary>The residual stream after the last block, recorded at the final norm's input.</summary>
    ResidualStream,

    /// <summary>The final norm's output.</summary>
    FinalNorm,

    /// <summary>The readout's output: the logits.</summary>
    Readout,

    /// <summary>
    /// The output of an output-like Linear inside a block (an MoE router's logits): like the readout's, it may shrink with
    /// width at initialization (muP's output weights) but must not grow.
    /// </summary>
    BlockReadout,
}
