namespace CompleteP;

/// <summary>How messages and tables write shapes and lists, in one place.</summary>
internal static class Listing
{
    /// <summary>A tensor shape as <c>64x128</c> (without brackets; the empty string for a scalar).</summary>
    public static string Shape(IEnumerable<long> shape) => string.Join("x", shape);

    /// <summary>The first <paramref name="count"/> items joined by <c>", "</c>, followed by <c>", ..."</c> when there are more.</summary>
    public static string FirstOf(IReadOnlyCollection<string> items, int count) =>
        string.Join(", ", items.Take(count)) + (items.Count > count ? ", ..." : string.Empty);
}
