namespace CompleteP.CoordinateChecks;

/// <summary>
/// Assertions on a <see cref="CoordinateCheckReport"/> for a user's own unit tests (any test framework:
/// a failure throws <see cref="CoordinateCheckFailedException"/> naming module, step, slope and tolerance).
/// </summary>
/// <example>
/// <code>
/// var report = CoordinateCheck.Run(factory, batches, loss, settings).Report();
/// report.Should().BeStableAcrossWidth("completep").And.BeStableAcrossDepth("completep");
/// </code>
/// </example>
public sealed class CoordinateCheckAssertions
{
    internal CoordinateCheckAssertions(CoordinateCheckReport report) => Subject = report;

    /// <summary>The report under test.</summary>
    public CoordinateCheckReport Subject { get; }

    /// <summary>This object, to chain assertions.</summary>
    public CoordinateCheckAssertions And => this;

    /// <summary>Asserts that every module's output size is flat across width (within the tolerance).</summary>
    /// <param name="parameterization">Only this parameterization (its name); null checks all in the report.</param>
    /// <returns>This object.</returns>
    /// <exception cref="CoordinateCheckFailedException">A slope strays, the report holds no width sweep to check, or the verdict is inconclusive (the control, SP, passed too).</exception>
    public CoordinateCheckAssertions BeStableAcrossWidth(string? parameterization = null) => Stable(SweepAxis.Width, parameterization, expectStable: true);

    /// <summary>Asserts that every module's output size follows the predicted exponent across depth.</summary>
    /// <param name="parameterization">Only this parameterization; null checks all.</param>
    /// <returns>This object.</returns>
    /// <exception cref="CoordinateCheckFailedException">A slope strays, the report holds no depth sweep to check, or the verdict is inconclusive (the control, muP, passed too).</exception>
    public CoordinateCheckAssertions BeStableAcrossDepth(string? parameterization = null) => Stable(SweepAxis.Depth, parameterization, expectStable: true);

    /// <summary>Asserts that some module's output size is not flat across width (what SP shows).</summary>
    /// <param name="parameterization">Only this parameterization; null checks all.</param>
    /// <returns>This object.</returns>
    /// <exception cref="CoordinateCheckFailedException">Every slope is flat, or there is no width sweep.</exception>
    public CoordinateCheckAssertions NotBeStableAcrossWidth(string? parameterization = null) => Stable(SweepAxis.Width, parameterization, expectStable: false);

    /// <summary>Asserts that some module's output size is not as predicted across depth (what SP and muP show).</summary>
    /// <param name="parameterization">Only this parameterization; null checks all.</param>
    /// <returns>This object.</returns>
    /// <exception cref="CoordinateCheckFailedException">Every slope is as predicted, or there is no depth sweep.</exception>
    public CoordinateCheckAssertions NotBeStableAcrossDepth(string? parameterization = null) => Stable(SweepAxis.Depth, parameterization, expectStable: false);

    /// <summary>Asserts that the laziness slope is as predicted (<c>alpha - 1</c>).</summary>
    /// <param name="parameterization">The parameterization's name.</param>
    /// <returns>This object.</returns>
    /// <exception cref="CoordinateCheckFailedException">The slope strays, or the report has no laziness verdict for it.</exception>
    public CoordinateCheckAssertions HaveLazinessAsPredicted(string parameterization)
    {
        ArgumentNullException.ThrowIfNull(parameterization);
        var verdict = Subject.LazinessVerdicts.FirstOrDefault(v => v.Parameterization == parameterization)
            ?? throw new CoordinateCheckFailedException($"The report has no laziness verdict for '{parameterization}' (has: {string.Join(", ", Subject.LazinessVerdicts.Select(v => v.Parameterization))}).");
        if (!verdict.Passed)
        {
            throw new CoordinateCheckFailedException("Expected the laziness slope to be as predicted, but " + verdict);
        }

        return this;
    }

    private CoordinateCheckAssertions Stable(SweepAxis axis, string? parameterization, bool expectStable)
    {
        var verdicts = (axis == SweepAxis.Width ? Subject.WidthVerdicts : Subject.DepthVerdicts)
            .Where(v => parameterization is null || v.Parameterization == parameterization).ToList();
        string what = parameterization is null ? "the report" : $"'{parameterization}'";
        if (verdicts.Count == 0)
        {
            throw new CoordinateCheckFailedException(
                $"Expected {what} to be checked across {axis.ToString().ToLowerInvariant()}, but it has no {axis.ToString().ToLowerInvariant()} sweep (at least two {(axis == SweepAxis.Width ? "widths at one depth" : "depths at one width")}): a check that cannot fail proves nothing.");
        }

        var failures = verdicts.Where(v => !v.Passed).ToList();
        if (expectStable && failures.Count > 0)
        {
            throw new CoordinateCheckFailedException(
                $"Expected {what} to be stable across {axis.ToString().ToLowerInvariant()} ({Subject.Metric}), but {failures.Count} of {verdicts.Count} verdicts failed:{Environment.NewLine}" +
                string.Join(Environment.NewLine, failures.OrderByDescending(f => Math.Abs(f.Slope - f.Expected)).Take(12).Select(f => "  " + f)));
        }

        if (expectStable && Subject.IsInconclusive(axis) && parameterization != CoordinateCheckReport.ControlFor(axis).Name)
        {
            throw new CoordinateCheckFailedException(
                $"Expected {what} to be stable across {axis.ToString().ToLowerInvariant()}, but the verdict is {CoordinateCheckReport.InconclusiveMessage}: " +
                $"the control {CoordinateCheckReport.ControlFor(axis).Name} passed all its verdicts too (use more {(axis == SweepAxis.Width ? "widths" : "depths")}, more steps or a larger learning rate).");
        }

        if (!expectStable && failures.Count == 0)
        {
            var worst = verdicts.OrderByDescending(v => Math.Abs(v.Slope - v.Expected)).First();
            throw new CoordinateCheckFailedException(
                $"Expected {what} not to be stable across {axis.ToString().ToLowerInvariant()}, but all {verdicts.Count} verdicts passed; the largest deviation: {worst}");
        }

        return this;
    }
}
