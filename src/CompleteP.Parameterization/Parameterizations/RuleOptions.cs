namespace CompleteP;

/// <summary>
/// The choices that the paper and the reference code leave open, and the tunable forward
/// multipliers. <see cref="Default"/> follows Table 1 of Dey et al. (2025).
/// </summary>
public sealed record RuleOptions
{
    private readonly double _inputMultiplier = 1.0;
    private readonly double _outputMultiplier = 1.0;
    private readonly double _attentionMultiplier = 1.0;

    /// <summary>Table 1's choices: epsilon scaled in residual blocks only, PyTorch-coupled decay, all multipliers 1.</summary>
    public static RuleOptions Default { get; } = new();

    /// <summary>Which parameters get the scaled Adam epsilon. Default: <see cref="CompleteP.EpsilonScope.ResidualBlocks"/>.</summary>
    public EpsilonScope EpsilonScope { get; init; } = EpsilonScope.ResidualBlocks;

    /// <summary>How weight-decay values are to be read. Default: <see cref="CompleteP.WeightDecayConvention.Coupled"/>.</summary>
    public WeightDecayConvention WeightDecayConvention { get; init; } = WeightDecayConvention.Coupled;

    /// <summary>
    /// GPT-2's init for the residual output projections (attention and MLP <c>c_proj</c>):
    /// std <c>sigma / sqrt(2L)</c>. Only valid with SP; off by default.
    /// </summary>
    public bool Gpt2OutputProjectionInit { get; init; }

    /// <summary>The tunable embedding-output multiplier <c>alpha_in</c>; finite, greater than 0. Default 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than 0.</exception>
    public double InputMultiplier
    {
        get => _inputMultiplier;
        init { Guard.PositiveFinite(value, nameof(InputMultiplier)); _inputMultiplier = value; }
    }

    /// <summary>The tunable unembedding-output (logit) multiplier <c>alpha_out</c>; finite, greater than 0. Default 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than 0.</exception>
    public double OutputMultiplier
    {
        get => _outputMultiplier;
        init { Guard.PositiveFinite(value, nameof(OutputMultiplier)); _outputMultiplier = value; }
    }

    /// <summary>The tunable attention-logit multiplier <c>alpha_attn</c>; finite, greater than 0. Default 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than 0.</exception>
    public double AttentionMultiplier
    {
        get => _attentionMultiplier;
        init { Guard.PositiveFinite(value, nameof(AttentionMultiplier)); _attentionMultiplier = value; }
    }
}
