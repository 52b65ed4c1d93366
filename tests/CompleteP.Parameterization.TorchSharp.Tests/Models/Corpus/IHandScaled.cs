namespace CompleteP.Tests.Adapter.Models.Corpus;

/// <summary>
/// Forward multipliers written into a corpus model's own forward, all 1 as its author wrote it. The equivalence tests
/// set them to Table 1's multipliers to make the hand-written CompleteP version of the same model (the reference).
/// A plain class, not a module, so that TorchSharp does not register it.
/// </summary>
public sealed class HandScales
{
    /// <summary>Multiplies every residual branch's output (Table 1: m_L^-alpha).</summary>
    public double Residual { get; set; } = 1.0;

    /// <summary>Multiplies the attention branch's output on top of <see cref="Residual"/> (a tuned per-branch factor, <c>res</c>).</summary>
    public double AttentionBranch { get; set; } = 1.0;

    /// <summary>Multiplies the MLP (or MoE) branch's output on top of <see cref="Residual"/> (a tuned per-branch factor, <c>res</c>).</summary>
    public double MlpBranch { get; set; } = 1.0;

    /// <summary>Multiplies the logits (Table 1: alpha_out / m_N).</summary>
    public double Output { get; set; } = 1.0;

    /// <summary>Multiplies the embeddings' output (alpha_in).</summary>
    public double Embedding { get; set; } = 1.0;

    /// <summary>Multiplies the logits of an output-like Linear inside a block, an MoE router (muP's output-weight rule: m_N^-1).</summary>
    public double BlockReadout { get; set; } = 1.0;
}

/// <summary>A corpus model whose forward carries <see cref="HandScales"/>.</summary>
public interface IHandScaled
{
    /// <summary>The multipliers its forward applies.</summary>
    HandScales Scales { get; }
}
