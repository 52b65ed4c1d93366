namespace CompleteP;

/// <summary>
/// A <see cref="ScaledValue"/> product or quotient that left the range of a double. The engine catches it and
/// re-throws an <see cref="ArgumentOutOfRangeException"/> that names the argument to change; a caller of
/// <see cref="ScaledValue.Times(string, double, double, string)"/> sees it as an <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
internal sealed class ScaledValueRangeException : ArgumentOutOfRangeException
{
    public ScaledValueRangeException(string parameter, string formula, string substitution, double value)
        : base(parameter, value, Describe(formula, substitution, value))
    {
        Formula = formula;
        Substitution = substitution;
        Reason = Describe(formula, substitution, value);
    }

    /// <summary>What overflowed, without the parameter name and value that <see cref="ArgumentOutOfRangeException.Message"/> appends.</summary>
    public string Reason { get; }

    /// <summary>The formula that overflowed.</summary>
    public string Formula { get; }

    /// <summary>The formula with the numbers put in.</summary>
    public string Substitution { get; }

    private static string Describe(string formula, string substitution, double value) =>
        $"{formula} = {substitution} = {Guard.Format(value)} is not a finite number: it overflows the range of a double (about 1.8E+308).";
}
