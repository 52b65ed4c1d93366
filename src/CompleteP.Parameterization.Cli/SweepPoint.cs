namespace CompleteP.Cli;

/// <summary>
/// One learning rate of one shape in a sweep: the loss averaged over its seeds. A point where any seed diverged is
/// diverged: its loss is <see cref="double.PositiveInfinity"/>, it has no standard error, and it is never an optimum.
/// </summary>
/// <param name="LearningRate">The base learning rate.</param>
/// <param name="Loss">The mean loss over the seeds; <see cref="double.PositiveInfinity"/> when any seed diverged.</param>
/// <param name="Seeds">How many runs (seeds) the mean is over.</param>
/// <param name="StandardError">The standard error of the mean (sample standard deviation over the square root of the seeds); null for one seed or a diverged point.</param>
/// <param name="BySeed">Each seed's loss (for paired differences between points).</param>
internal sealed record SweepPoint(double LearningRate, double Loss, int Seeds, double? StandardError, IReadOnlyDictionary<long, double> BySeed)
{
    /// <summary>Whether any seed diverged at this learning rate.</summary>
    public bool Diverged => !double.IsFinite(Loss);

    /// <summary>The point of the runs at one learning rate.</summary>
    public static SweepPoint Of(double learningRate, IReadOnlyCollection<SweepRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var bySeed = runs.GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => g.Average(r => r.Loss));
        if (bySeed.Values.Any(v => !double.IsFinite(v)))
        {
            return new SweepPoint(learningRate, double.PositiveInfinity, bySeed.Count, null, bySeed);
        }

        return new SweepPoint(learningRate, bySeed.Values.Average(), bySeed.Count, SweepAnalysis.StandardError(bySeed.Values.ToList()), bySeed);
    }
}
