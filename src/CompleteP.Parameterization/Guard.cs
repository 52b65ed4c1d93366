using System.Runtime.CompilerServices;

namespace CompleteP;

/// <summary>Argument checks whose messages name the parameter, the value and the valid range.</summary>
internal static class Guard
{
    /// <summary>The smallest positive normal double, 2^-1022; below it a double is subnormal and loses precision.</summary>
    public const double SmallestNormal = 2.2250738585072014E-308;

    public static void Positive(long value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1 (valid range: 1 and above), but was {value}.");
        }
    }

    public static void PositiveFinite(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (PositiveFiniteProblem(value, name) is { } problem)
        {
            throw new ArgumentOutOfRangeException(name, value, problem);
        }
    }

    /// <summary>Why <paramref name="value"/> is not a finite normal number greater than 0, or null when it is.</summary>
    public static string? PositiveFiniteProblem(double value, string? name) =>
        !double.IsFinite(value) || value <= 0
            ? $"{name} must be a finite number greater than 0 (valid range: (0, +inf)), but was {Format(value)}."
            : double.IsSubnormal(value)
                ? $"{name} must be a finite number greater than 0 (valid range: (0, +inf)) and a normal double (at least {Format(SmallestNormal)}), but was {Format(value)}, a subnormal number that has lost its precision."
                : null;

    public static void NonNegativeFinite(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number of at least 0 (valid range: [0, +inf)), but was {Format(value)}.");
        }

        if (double.IsSubnormal(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 or a finite number of at least {Format(SmallestNormal)} (the smallest normal double; valid range: [0, +inf)), but was {Format(value)}, a subnormal number that has lost its precision.");
        }
    }

    /// <summary>Whether a number is usable as a rule's value: finite and either 0 or a normal double.</summary>
    public static bool IsNormalOrZero(double value) => value == 0 || double.IsNormal(value);

    /// <summary>A number as explanations show it: up to 6 significant digits (as <c>ScaledValue.Format</c>).</summary>
    public static string Short(double value) => value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    /// <summary>Checks an Adam beta: finite, in [0, 1).</summary>
    public static void Beta(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!double.IsFinite(value) || value < 0 || value >= 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number in [0, 1) (valid range: [0, 1)), but was {Format(value)}.");
        }
    }

    public static string Format(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
