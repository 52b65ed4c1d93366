using System.Text.RegularExpressions;

namespace CompleteP.Discovery;

/// <summary>Glob patterns on dotted names: <c>*</c> matches any run of characters, <c>?</c> one character.</summary>
internal static class Glob
{
    /// <summary>Whether a name matches a pattern.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="name">The name.</param>
    /// <returns>True when the whole name matches.</returns>
    public static bool Matches(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Whether a pattern has a wildcard.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <returns>True when it has <c>*</c> or <c>?</c>.</returns>
    public static bool HasWildcard(string pattern) => pattern.Contains('*', StringComparison.Ordinal) || pattern.Contains('?', StringComparison.Ordinal);
}
