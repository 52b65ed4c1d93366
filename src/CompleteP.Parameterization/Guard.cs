using System.Runtime.CompilerServices;

namespace CompleteP;

/// <summary>Argument checks whose messages name the parameter, the value and the valid range.</summary>
internal static class Guard
{
    public static void Positive(long value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1 (valid range: 1 and above), but was {value}.");
        }
    }

    public static void PositiveFinite(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number greater than 0 (valid range: (0, +inf)), but was {Format(value)}.");
        }
    }

    public static void NonNegativeFinite(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number of at least 0 (valid range: [0, +inf)), but was {Format(value)}.");
        }
    }

    public static string Format(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
