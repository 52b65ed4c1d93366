using System.Globalization;

namespace CompleteP;

/// <summary>
/// A number produced by a rule, with the rule that produced it: the symbolic formula
/// (<c>eta * m_N^-1 * m_L^(alpha-1)</c>) and the same formula with the numbers put in
/// (<c>0.01 * 2^-1 * 4^0</c>).
/// </summary>
public sealed record ScaledValue
{
    /// <summary>Creates a value with its explanation.</summary>
    /// <param name="value">The number.</param>
    /// <param name="formula">The symbolic formula, in the paper's notation.</param>
    /// <param name="substitution">The formula with the numbers put in.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite.</exception>
    internal ScaledValue(double value, string formula, string substitution)
    {
        ArgumentNullException.ThrowIfNull(formula);
        ArgumentNullException.ThrowIfNull(substitution);
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"A rule's value must be a finite number, but '{formula}' = {Guard.Format(value)}.");
        }

        Value = value;
        Formula = formula;
        Substitution = substitution;
    }

    /// <summary>The number.</summary>
    public double Value { get; }

    /// <summary>The symbolic formula, in the paper's notation, e.g. <c>eta * m_N^-1</c>.</summary>
    public string Formula { get; }

    /// <summary>The formula with the numbers put in, e.g. <c>0.01 * 2^-1</c>.</summary>
    public string Substitution { get; }

    /// <summary>A value that is a fixed constant of the rule (such as a norm gain's 1).</summary>
    /// <param name="value">The constant.</param>
    /// <returns>The value, explained as itself.</returns>
    internal static ScaledValue Constant(double value) => new(value, Format(value), Format(value));

    /// <summary>A base hyperparameter, not yet scaled.</summary>
    /// <param name="symbol">Its symbol (<c>eta</c>, <c>sigma</c>, ...).</param>
    /// <param name="value">Its value.</param>
    /// <returns>The value, explained by its symbol.</returns>
    internal static ScaledValue Base(string symbol, double value) => new(value, symbol, Format(value));

    /// <summary>This value times <c>multiplier^exponent</c>.</summary>
    /// <param name="symbol">The multiplier's symbol (<c>m_N</c>, <c>m_L</c>).</param>
    /// <param name="multiplier">The multiplier's value.</param>
    /// <param name="exponent">The exponent's value.</param>
    /// <param name="exponentSymbol">The exponent as written in the formula (<c>-1</c>, <c>(alpha-1)</c>, <c>-1/2</c>).</param>
    /// <returns>The scaled value with the factor appended to both forms of its explanation.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The product is not a finite number (it overflows, or an input is NaN or infinite).</exception>
    internal ScaledValue Times(string symbol, double multiplier, double exponent, string exponentSymbol) => Finite(
        Value * Math.Pow(multiplier, exponent),
        $"{Formula} * {symbol}^{exponentSymbol}",
        $"{Substitution} * {Format(multiplier)}^{Format(exponent)}",
        nameof(multiplier));

    /// <summary>This value times a named factor.</summary>
    /// <param name="symbol">The factor's symbol (<c>c_residual</c>).</param>
    /// <param name="factor">The factor's value.</param>
    /// <returns>The product.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The product is not a finite number.</exception>
    internal ScaledValue Times(string symbol, double factor) => Finite(
        Value * factor,
        $"{Formula} * {symbol}",
        $"{Substitution} * {Format(factor)}",
        nameof(factor));

    /// <summary>This value divided by a named quantity.</summary>
    /// <param name="symbol">The divisor's symbol (<c>d_head</c>, <c>sqrt(2L)</c>).</param>
    /// <param name="divisor">The divisor's value.</param>
    /// <returns>The divided value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The quotient is not a finite number (the divisor is 0, or it overflows).</exception>
    internal ScaledValue DividedBy(string symbol, double divisor) => Finite(
        Value / divisor,
        $"{Formula} / {symbol}",
        $"{Substitution} / {Format(divisor)}",
        nameof(divisor));

    /// <summary>The value, or the exception that says which formula left the range of a double.</summary>
    private static ScaledValue Finite(double value, string formula, string substitution, string parameter) => double.IsFinite(value)
        ? new ScaledValue(value, formula, substitution)
        : throw new ScaledValueRangeException(parameter, formula, substitution, value);

    /// <summary>Formats a number the way explanations show it (up to 6 significant digits).</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its text.</returns>
    internal static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Formula == Substitution
        ? Format(Value)
        : $"{Formula} = {Substitution} = {Format(Value)}";
}
