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
    private readonly double _timescaleExponent;

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

    /// <summary>
    /// The "Power Lines" exponent <c>m</c> (Bergsma et al. 2025, arXiv 2505.13738): with training shapes, the AdamW
    /// timescale as a fraction of the run, <c>tau = 1 / (eta * lambda * S)</c>, is not held fixed but scaled by
    /// <c>(TPP / TPP_base)^m</c>, where TPP is tokens per parameter, so that the weight decay gets the factor
    /// <c>(TPP / TPP_base)^-m</c>. The parameter-count ratio is that of the hidden weights, <c>m_N^2 * m_L</c>. Default 0:
    /// the timescale is held fixed (Wang and Aitchison 2024). Only valid with training shapes; finite.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite.</exception>
    public double TimescaleExponent
    {
        get => _timescaleExponent;
        init
        {
            if (!double.IsFinite(value))
            {
                throw new ArgumentOutOfRangeException(nameof(TimescaleExponent), value, $"{nameof(TimescaleExponent)} must be a finite number (valid range: (-inf, +inf)), but was {Guard.Format(value)}.");
            }

            _timescaleExponent = value;
        }
    }
}
