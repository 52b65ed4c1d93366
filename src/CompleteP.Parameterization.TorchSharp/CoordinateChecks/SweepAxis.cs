namespace CompleteP.CoordinateChecks;

/// <summary>The direction a slope is fitted along.</summary>
public enum SweepAxis
{
    /// <summary>Across widths, at a fixed depth.</summary>
    Width,

    /// <summary>Across depths, at a fixed width.</summary>
    Depth,
}
