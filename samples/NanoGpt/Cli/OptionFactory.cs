using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NanoGpt.Cli;

/// <summary>Options whose parsers reject bad values with one line naming the option, the value and the valid range.</summary>
internal static class OptionFactory
{
    /// <summary>An integer of at least <paramref name="min"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = 1) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = Token(r);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min)
            {
                return value;
            }

            r.AddError($"{name} must be an integer of at least {min}, but was '{text}'.");
            return default;
        },
    };

    /// <summary>A number in [min, max], or (min, max] when <paramref name="minExclusive"/>.</summary>
    public static Option<double> Double(string name, string description, double defaultValue, double min, bool minExclusive = false,
        double max = double.PositiveInfinity) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseDouble(r, name, min, minExclusive, max),
    };

    /// <summary>An optional number in [min, max]; null when the option is absent.</summary>
    public static Option<double?> OptionalDouble(string name, string description, double min, double max) => new(name)
    {
        Description = description,
        CustomParser = r => ParseDouble(r, name, min, false, max),
    };

    /// <summary>An optional integer of at least <paramref name="min"/>; null when the option is absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            string text = Token(r);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min)
            {
                return value;
            }

            r.AddError($"{name} must be an integer of at least {min}, but was '{text}'.");
            return null;
        },
    };

    /// <summary>true or false (case-insensitive).</summary>
    public static Option<bool> Bool(string name, string description, bool defaultValue) => new(name)
    {
        Description = $"{description}: true or false",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = Token(r);
            if (bool.TryParse(text, out bool value))
            {
                return value;
            }

            r.AddError($"{name} must be true or false, but was '{text}'.");
            return default;
        },
    };

    /// <summary>One of a few words (case-insensitive).</summary>
    public static Option<string> OneOf(string name, string description, string defaultValue, params string[] allowed) => new(name)
    {
        Description = $"{description}: {string.Join(", ", allowed)}",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = Token(r);
            if (allowed.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                return text.ToLowerInvariant();
            }

            r.AddError($"{name} must be one of {string.Join(", ", allowed)}, but was '{text}'.");
            return null;
        },
    };

    /// <summary>The comma-separated items of a list option; an empty list is a usage error.</summary>
    public static string[] Items(string text, string option)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length > 0 ? items : throw new UsageException($"{option} must list at least one value, but was '{text}'.");
    }

    /// <summary>The comma-separated values of a list option; an item <paramref name="parse"/> refuses is a usage error.</summary>
    public static List<T> Numbers<T>(string text, string option, Func<string, T?> parse)
        where T : struct =>
        Items(text, option).Select(s => parse(s) ?? throw new UsageException($"{option} has '{s}', which is not a valid value (in '{text}').")).ToList();

    /// <summary>The comma-separated positive integers of a list option.</summary>
    public static List<int> PositiveIntegers(string text, string option) =>
        Numbers(text, option, s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : (int?)null);

    /// <summary>The comma-separated positive learning rates of a list option: numbers, or powers of two written <c>2^-8.5</c>.</summary>
    public static List<double> LearningRates(string text, string option) => Numbers(text, option, s =>
    {
        bool power = s.StartsWith("2^", StringComparison.Ordinal);
        if (!double.TryParse(power ? s[2..] : s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            return null;
        }

        v = power ? Math.Pow(2, v) : v;
        return v > 0 && double.IsFinite(v) ? v : (double?)null;
    });

    /// <summary>The comma-separated non-negative integer seeds of a list option.</summary>
    public static List<long> Seeds(string text, string option) =>
        Numbers(text, option, s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= 0 ? v : (long?)null);

    public static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static double ParseDouble(ArgumentResult r, string name, double min, bool minExclusive, double max)
    {
        string text = Token(r);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            && (minExclusive ? value > min : value >= min) && value <= max)
        {
            return value;
        }

        string range = $"{(minExclusive ? "(" : "[")}{F(min)}, {(double.IsPositiveInfinity(max) ? "inf)" : F(max) + "]")}";
        r.AddError($"{name} must be a number in {range}, but was '{text}'.");
        return default;
    }

    private static string Token(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : string.Empty;
}
