namespace CompleteP;

/// <summary>Why a forward multiplier acts through a hook on a module's output instead of being folded into weights.</summary>
public enum HookReason
{
    /// <summary>The caller asked for hooks (<c>MultiplierMode.Hooks</c>).</summary>
    HooksMode,

    /// <summary>
    /// The readout is tied to the embedding table, which must not carry the logit multiplier, and no final norm with a gain
    /// follows the blocks to fold it into.
    /// </summary>
    TiedReadout,

    /// <summary>
    /// The forward computes the logits itself (<c>.OutputMultiplierAppliedInForward()</c>), perhaps from the input table,
    /// which must then not carry <c>alpha_in</c>.
    /// </summary>
    LogitsInForward,
}
