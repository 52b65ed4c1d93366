using System.Globalization;

namespace CompleteP.CoordinateChecks;

/// <summary>
/// The fitted depth exponent of the blocks' relative distance from their linearization after one
/// step, against the prediction <c>alpha - 1</c> (Dey et al. 2025, Section 4): flat only for CompleteP.
/// </summary>
/// <param name="Parameterization">The parameterization.</param>
/// <param name="Slope">Least-squares slope of log2(mean relative nonlinearity) against log2(depth).</param>
/// <param name="Expected"><c>alpha - 1</c> for depth-scaled parameterizations; 0 for SP and muP, whose learning rates do not depend on depth.</param>
/// <param name="Tolerance">How far the slope may stray from it.</param>
/// <param name="Points">How many depths the slope was fitted on.</param>
public sealed record LazinessVerdict(string Parameterization, double Slope, double Expected, double Tolerance, int Points)
{
    /// <summary>The parameterization.</summary>
    public string Parameterization { get; internal init; } = Parameterization;

    /// <summary>Least-squares slope of log2(mean relative nonlinearity) against log2(depth).</summary>
    public double Slope { get; internal init; } = Slope;

    /// <summary><c>alpha - 1</c> for depth-scaled parameterizations; 0 for SP and muP, whose learning rates do not depend on depth.</summary>
    public double Expected { get; internal init; } = Expected;

    /// <summary>How far the slope may stray from it.</summary>
    public double Tolerance { get; internal init; } = Tolerance;

    /// <summary>How many depths the slope was fitted on.</summary>
    public int Points { get; internal init; } = Points;

    /// <summary>Whether the slope is within the tolerance of the prediction.</summary>
    public bool Passed => Math.Abs(Slope - Expected) <= Tolerance;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Parameterization}: laziness slope vs log2(depth) = {Slope:F3}, expected {Expected:F2} ± {Tolerance:F2} ({(Passed ? "pass" : "FAIL")}, {Points} depths)");
}
