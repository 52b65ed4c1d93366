namespace CompleteP.Cli;

/// <summary>Checks on option values shared by the commands; errors name the option, the value and the valid range.</summary>
internal static class OptionValues
{
    /// <summary>The value of an integer option that must be at least 1.</summary>
    public static int Positive(int value, string option) => value > 0
        ? value
        : throw new ArgumentOutOfRangeException(option, value, $"{option} must be at least 1 (valid range: 1 and above), but was {value}.");
}
