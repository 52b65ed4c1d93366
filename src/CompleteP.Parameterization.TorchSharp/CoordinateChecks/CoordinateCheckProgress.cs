namespace CompleteP.CoordinateChecks;

/// <summary>Progress of a long coordinate check: run <see cref="Run"/> of <see cref="Runs"/> has finished.</summary>
/// <param name="Run">The number of finished runs.</param>
/// <param name="Runs">The number of runs in all.</param>
/// <param name="Parameterization">The finished run's parameterization.</param>
/// <param name="Width">Its width.</param>
/// <param name="Depth">Its depth.</param>
/// <param name="Seed">Its seed.</param>
/// <param name="Elapsed">Time since the check started.</param>
public sealed record CoordinateCheckProgress(int Run, int Runs, string Parameterization, int Width, int Depth, int Seed, TimeSpan Elapsed)
{
    /// <summary>The number of finished runs.</summary>
    public int Run { get; internal init; } = Run;

    /// <summary>The number of runs in all.</summary>
    public int Runs { get; internal init; } = Runs;

    /// <summary>The finished run's parameterization.</summary>
    public string Parameterization { get; internal init; } = Parameterization;

    /// <summary>Its width.</summary>
    public int Width { get; internal init; } = Width;

    /// <summary>Its depth.</summary>
    public int Depth { get; internal init; } = Depth;

    /// <summary>Its seed.</summary>
    public int Seed { get; internal init; } = Seed;

    /// <summary>Time since the check started.</summary>
    public TimeSpan Elapsed { get; internal init; } = Elapsed;

    /// <inheritdoc />
    public override string ToString() =>
        $"[{Run}/{Runs}] {Parameterization} width {Width} depth {Depth} seed {Seed} ({Elapsed.TotalSeconds:F1} s)";
}
