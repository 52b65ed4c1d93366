namespace CompleteP.CoordinateChecks;

/// <summary>The entry to the assertions: <c>report.Should().BeStableAcrossWidth()</c>.</summary>
public static class CoordinateCheckReportExtensions
{
    /// <summary>Starts an assertion on a report.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The assertions.</returns>
    public static CoordinateCheckAssertions Should(this CoordinateCheckReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new CoordinateCheckAssertions(report);
    }
}
