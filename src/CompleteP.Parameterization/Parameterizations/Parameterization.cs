using System.Globalization;

namespace CompleteP;

/// <summary>
/// Which parameterization to follow: SP, muP, or depth-scaled muP with a depth exponent
/// <c>alpha</c> in [0.5, 1] (CompleteP is <c>alpha = 1</c>, depth-muP is <c>alpha = 0.5</c>).
/// </summary>
/// <remarks>
/// Source: Dey et al. (2025), "Don't be lazy: CompleteP enables compute-efficient deep
/// transformers", arXiv 2505.01618, Table 1 and Section 3.
/// </remarks>
public sealed record Parameterization
{
    /// <summary>The smallest depth exponent the rules are defined for (depth-muP).</summary>
    internal const double MinDepthExponent = 0.5;

    /// <summary>The largest depth exponent the rules are defined for (CompleteP).</summary>
    internal const double MaxDepthExponent = 1.0;

    private Parameterization(ParameterizationKind kind, double? depthExponent)
    {
        Kind = kind;
        DepthExponent = depthExponent;
    }

    /// <summary>Standard parameterization: no tensor's rule depends on width or depth.</summary>
    public static Parameterization Standard { get; } = new(ParameterizationKind.Standard, null);

    /// <summary>muP: the width rules, no depth rules (residual multiplier 1).</summary>
    public static Parameterization MuP { get; } = new(ParameterizationKind.MaximalUpdate, null);

    /// <summary>CompleteP: depth-scaled muP with <c>alpha = 1</c>.</summary>
    public static Parameterization CompleteP { get; } = new(ParameterizationKind.DepthScaled, 1.0);

    /// <summary>depth-muP: depth-scaled muP with <c>alpha = 0.5</c>.</summary>
    public static Parameterization DepthMuP { get; } = new(ParameterizationKind.DepthScaled, 0.5);

    /// <summary>The family of rules this parameterization uses.</summary>
    public ParameterizationKind Kind { get; }

    /// <summary>The depth exponent <c>alpha</c>; null for SP and muP, which have no depth rules.</summary>
    public double? DepthExponent { get; }

    /// <summary>
    /// The name used on command lines and in JSON: <c>sp</c>, <c>mup</c>, <c>completep</c> (alpha 1),
    /// <c>depth-mup</c> (alpha 0.5), or <c>alpha=A</c> for other exponents.
    /// </summary>
    public string Name => Kind switch
    {
        ParameterizationKind.Standard => "sp",
        ParameterizationKind.MaximalUpdate => "mup",
        _ when DepthExponent == 1.0 => "completep",
        _ when DepthExponent == 0.5 => "depth-mup",
        _ => "alpha=" + DepthExponent!.Value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Depth-scaled muP with the given depth exponent.</summary>
    /// <param name="alpha">The depth exponent, in [0.5, 1].</param>
    /// <returns>The parameterization.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0.5, 1] or not a number.</exception>
    public static Parameterization WithDepthExponent(double alpha)
    {
        if (double.IsNaN(alpha) || alpha < MinDepthExponent || alpha > MaxDepthExponent)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha,
                $"alpha (the depth exponent) must lie in [{MinDepthExponent}, {MaxDepthExponent}], but was {Guard.Format(alpha)}.");
        }

        return new Parameterization(ParameterizationKind.DepthScaled, alpha);
    }

    /// <summary>
    /// Parses a name as written on a command line: <c>sp</c>, <c>mup</c>, <c>completep</c>,
    /// <c>depth-mup</c> (case-insensitive), or <c>alpha=A</c>; an explicit <paramref name="alpha"/>
    /// overrides the default exponent of <c>completep</c> (1) and <c>depth-mup</c> (0.5).
    /// </summary>
    /// <param name="name">The parameterization's name.</param>
    /// <param name="alpha">An explicit depth exponent in [0.5, 1]; only valid with depth-scaled names.</param>
    /// <returns>The parameterization.</returns>
    /// <exception cref="ArgumentException">The name is unknown, or <paramref name="alpha"/> is given with <c>sp</c> or <c>mup</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0.5, 1].</exception>
    public static Parameterization Parse(string name, double? alpha = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToLowerInvariant();
        if (key.StartsWith("alpha=", StringComparison.Ordinal))
        {
            if (!double.TryParse(key["alpha=".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                throw new ArgumentException($"parameterization '{name}' has no number after 'alpha='.", nameof(name));
            }

            if (alpha is not null && alpha != parsed)
            {
                throw new ArgumentException($"parameterization '{name}' and alpha {Guard.Format(alpha.Value)} disagree.", nameof(alpha));
            }

            return WithDepthExponent(parsed);
        }

        return key switch
        {
            "sp" or "standard" => alpha is null ? Standard : throw NoAlpha(name, alpha.Value),
            "mup" or "mu-p" => alpha is null ? MuP : throw NoAlpha(name, alpha.Value),
            "completep" or "complete-p" => WithDepthExponent(alpha ?? 1.0),
            "depth-mup" or "depthmup" or "depth-mu-p" => WithDepthExponent(alpha ?? 0.5),
            _ => throw new ArgumentException(
                $"Unknown parameterization '{name}'. Valid names: sp, mup, completep, depth-mup, alpha=A (A in [0.5, 1]).", nameof(name)),
        };
    }

    private static ArgumentException NoAlpha(string name, double alpha) => new(
        $"alpha (the depth exponent, here {Guard.Format(alpha)}) only applies to completep and depth-mup; '{name}' has no depth rules.",
        nameof(alpha));

    /// <inheritdoc />
    public override string ToString() => Name;
}
