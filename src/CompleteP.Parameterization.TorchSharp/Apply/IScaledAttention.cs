namespace CompleteP;

/// <summary>
/// Implemented by attention modules whose logit scale the parameterization sets: <c>1 / d_head</c>
/// under muP and CompleteP (times <c>alpha_attn</c>), <c>1 / sqrt(d_head)</c> under SP.
/// <see cref="Parameterize.Apply"/> sets <see cref="AttentionScale"/> on every module of the tree
/// that implements it. Attention code that cannot implement it reads
/// <c>ParameterizationPlan.AttentionScale</c> instead.
/// </summary>
public interface IScaledAttention
{
    /// <summary>The factor that multiplies <c>q k^T</c> before the softmax.</summary>
    double AttentionScale { get; set; }
}
