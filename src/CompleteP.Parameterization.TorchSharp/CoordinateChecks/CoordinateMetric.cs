namespace CompleteP.CoordinateChecks;

/// <summary>Which size of a module's output a check looks at.</summary>
public enum CoordinateMetric
{
    /// <summary>Mean absolute coordinate (microsoft/mup's l1).</summary>
    MeanAbs,

    /// <summary>Root mean square coordinate.</summary>
    Rms,

    /// <summary>Root mean square of the change since step 1.</summary>
    DeltaRms,
}
