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
    /// <inheritdoc />
    public override string ToString() =>
        $"[{Run}/{Runs}] {Parameterization} width {Width} depth {Depth} seed {Seed} ({Elapsed.TotalSeconds:F1} s)";
}
