namespace CompleteP;

/// <summary>
/// The two sizes that a parameterization scales with: the width <c>N</c> (d_model, the size of
/// the residual stream) and the depth <c>L</c> (the number of transformer blocks; each block
/// holds two residual branches, attention and MLP).
/// </summary>
public sealed record ModelShape
{
    /// <summary>Creates a shape.</summary>
    /// <param name="width">The width <c>N</c> (d_model); at least 1.</param>
    /// <param name="depth">The depth <c>L</c> (number of transformer blocks); at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is zero or negative.</exception>
    public ModelShape(int width, int depth)
    {
        Guard.Positive(width, nameof(width));
        Guard.Positive(depth, nameof(depth));
        Width = width;
        Depth = depth;
    }

    /// <summary>The width <c>N</c>: d_model, the size of the residual stream.</summary>
    public int Width { get; }

    /// <summary>The depth <c>L</c>: the number of transformer blocks.</summary>
    public int Depth { get; }

    /// <inheritdoc />
    public override string ToString() => $"width {Width}, depth {Depth}";
}
