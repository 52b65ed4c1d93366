using CompleteP.Rules;

namespace CompleteP;

/// <summary>A forward multiplier applied to a module's output by a forward hook (where folding cannot express it).</summary>
/// <param name="ModuleName">The module whose output is multiplied (its name in the model).</param>
/// <param name="Kind">Which multiplier.</param>
/// <param name="Value">The factor the hook applies, with its formula (for a tied readout, <c>alpha_out * m_N^-1 / alpha_in</c> when <c>alpha_in</c> is folded into the shared table).</param>
/// <param name="Reason">Why this multiplier is a hook and not folded.</param>
public sealed record MultiplierHook(string ModuleName, MultiplierKind Kind, ScaledValue Value, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"'{ModuleName}' output x {Value} ({Kind.ToString().ToLowerInvariant()} multiplier; {Reason})";
}
