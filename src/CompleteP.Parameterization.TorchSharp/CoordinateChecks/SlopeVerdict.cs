using System.Globalization;

namespace CompleteP.CoordinateChecks;

/// <summary>
/// The fitted exponent of one module's output size along one axis at one step, against the exponent
/// the parameterization predicts.
/// </summary>
/// <param name="Parameterization">The parameterization.</param>
/// <param name="Axis">Width or depth.</param>
/// <param name="Module">The module (for depth sweeps, the last block's index is written <c>last</c>).</param>
/// <param name="Kind">The module's kind.</param>
/// <param name="Step">The step.</param>
/// <param name="Slope">The least-squares slope of log2(size) against log2(width or depth).</param>
/// <param name="Expected">The predicted exponent.</param>
/// <param name="Tolerance">How far the slope may stray from it.</param>
/// <param name="OneSided">True where only growth beyond the tolerance fails (the readout, whose logits may shrink with width at initialization).</param>
/// <param name="Points">How many sizes the slope was fitted on.</param>
/// <param name="Note">Why the verdict fails regardless of a slope (nothing to fit), or null.</param>
public sealed record SlopeVerdict(string Parameterization, SweepAxis Axis, string Module, ModuleKind Kind, int Step, double Slope,
    double Expected, double Tolerance, bool OneSided, int Points, string? Note = null)
{
    /// <summary>The parameterization.</summary>
    public string Parameterization { get; internal init; } = Parameterization;

    /// <summary>Width or depth.</summary>
    public SweepAxis Axis { get; internal init; } = Axis;

    /// <summary>The module (for depth sweeps, the last block's index is written <c>last</c>).</summary>
    public string Module { get; internal init; } = Module;

    /// <summary>The module's kind.</summary>
    public ModuleKind Kind { get; internal init; } = Kind;

    /// <summary>The step.</summary>
    public int Step { get; internal init; } = Step;

    /// <summary>The least-squares slope of log2(size) against log2(width or depth).</summary>
    public double Slope { get; internal init; } = Slope;

    /// <summary>The predicted exponent.</summary>
    public double Expected { get; internal init; } = Expected;

    /// <summary>How far the slope may stray from it.</summary>
    public double Tolerance { get; internal init; } = Tolerance;

    /// <summary>True where only growth beyond the tolerance fails (the readout, whose logits may shrink with width at initialization).</summary>
    public bool OneSided { get; internal init; } = OneSided;

    /// <summary>How many sizes the slope was fitted on.</summary>
    public int Points { get; internal init; } = Points;

    /// <summary>Why the verdict fails regardless of a slope (nothing to fit), or null.</summary>
    public string? Note { get; internal init; } = Note;

    /// <summary>Whether the slope is within the tolerance of the predicted exponent.</summary>
    public bool Passed => Note is null && (OneSided ? Slope <= Expected + Tolerance : Math.Abs(Slope - Expected) <= Tolerance);

    /// <inheritdoc />
    public override string ToString() => Note is not null
        ? $"{Parameterization}: {Module} across {Axis.ToString().ToLowerInvariant()}: FAIL, {Note}"
        : string.Create(CultureInfo.InvariantCulture,
        $"{Parameterization}: module '{Module}' at step {Step}: slope of log2(size) vs log2({Axis.ToString().ToLowerInvariant()}) = {Slope:F3}, expected {Expected:F2} {(OneSided ? "or less, + " : "± ")}{Tolerance:F2} ({(Passed ? "pass" : "FAIL")}, {Points} points)");
}
