namespace CompleteP;

/// <summary>A forward multiplier applied to a module's output by a forward hook (where folding cannot express it).</summary>
/// <param name="ModuleName">The module whose output is multiplied (its name in the model).</param>
/// <param name="Kind">Which multiplier.</param>
/// <param name="Value">The factor the hook applies, with its formula (for a tied readout, <c>alpha_out * m_N^-1 / alpha_in</c> when <c>alpha_in</c> is folded into the shared table).</param>
/// <param name="Reason">Why this multiplier is a hook and not folded.</param>
public sealed record MultiplierHook(string ModuleName, MultiplierKind Kind, ScaledValue Value, HookReason Reason)
{
    /// <summary>The module whose output is multiplied (its name in the model).</summary>
    public string ModuleName { get; internal init; } = ModuleName;

    /// <summary>Which multiplier.</summary>
    public MultiplierKind Kind { get; internal init; } = Kind;

    /// <summary>The factor the hook applies, with its formula (for a tied readout, <c>alpha_out * m_N^-1 / alpha_in</c> when <c>alpha_in</c> is folded into the shared table).</summary>
    public ScaledValue Value { get; internal init; } = Value;

    /// <summary>Why this multiplier is a hook and not folded.</summary>
    public HookReason Reason { get; internal init; } = Reason;

    /// <summary>Why this multiplier is a hook, in words (from <see cref="Reason"/>).</summary>
    public string Explanation => Reason switch
    {
        HookReason.HooksMode => "MultiplierMode.Hooks",
        HookReason.TiedReadout => "its weight is tied to the embedding table, which must not carry the logit multiplier, and no final norm with a gain follows the blocks",
        HookReason.LogitsInForward => "the forward computes the logits (.OutputMultiplierAppliedInForward()), perhaps from this table, which must then not carry alpha_in",
        _ => Reason.ToString(),
    };

    /// <inheritdoc />
    public override string ToString() => $"'{ModuleName}' output x {Value} ({Kind.ToString().ToLowerInvariant()} multiplier; {Explanation})";
}
