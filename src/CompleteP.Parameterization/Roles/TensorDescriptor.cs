namespace CompleteP;

/// <summary>
/// What the rules engine needs to know about one parameter tensor: its role, whether it is a
/// bias (or a norm's shift), and its fan-in in the target and base models.
/// </summary>
public sealed record TensorDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="role">The tensor's role.</param>
    /// <param name="isBias">True for a bias vector or a norm's additive shift (initialized to 0); false for weights and norm gains.</param>
    /// <param name="fanIn">The fan-in in the target model (input features of a Linear); null uses the model's width multiplier.</param>
    /// <param name="baseFanIn">The fan-in in the base model; required when <paramref name="fanIn"/> is given.</param>
    /// <param name="isResidualOutputProjection">True for the Linear that writes a residual branch's output (attention and MLP <c>c_proj</c>); used by GPT-2's SP init option.</param>
    /// <exception cref="ArgumentOutOfRangeException">A fan-in is zero or negative, or the role is not defined.</exception>
    /// <exception cref="ArgumentException">Only one of the two fan-ins is given.</exception>
    public TensorDescriptor(TensorRole role, bool isBias = false, long? fanIn = null, long? baseFanIn = null, bool isResidualOutputProjection = false)
    {
        if (!Enum.IsDefined(role))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, $"role must be one of {string.Join(", ", Enum.GetNames<TensorRole>())}.");
        }

        if (fanIn.HasValue != baseFanIn.HasValue)
        {
            throw new ArgumentException("fanIn and baseFanIn must be given together (or neither, to use the model's width multiplier).", fanIn.HasValue ? nameof(baseFanIn) : nameof(fanIn));
        }

        if (fanIn is { } f)
        {
            Guard.Positive(f, nameof(fanIn));
        }

        if (baseFanIn is { } b)
        {
            Guard.Positive(b, nameof(baseFanIn));
        }

        Role = role;
        IsBias = isBias;
        FanIn = fanIn;
        BaseFanIn = baseFanIn;
        IsResidualOutputProjection = isResidualOutputProjection;
    }

    /// <summary>The tensor's role.</summary>
    public TensorRole Role { get; }

    /// <summary>True for a bias vector or a norm's additive shift.</summary>
    public bool IsBias { get; }

    /// <summary>The fan-in in the target model, or null to use the model's width multiplier.</summary>
    public long? FanIn { get; }

    /// <summary>The fan-in in the base model, or null to use the model's width multiplier.</summary>
    public long? BaseFanIn { get; }

    /// <summary>True for the Linear that writes a residual branch's output.</summary>
    public bool IsResidualOutputProjection { get; }
}
