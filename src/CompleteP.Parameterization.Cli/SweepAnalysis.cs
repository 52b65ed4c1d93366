namespace CompleteP.Cli;

/// <summary>
/// Finds, per parameterization and shape, the base learning rate with the lowest loss (averaged over seeds)
/// and its drift from the optimum at the base shape.
/// </summary>
internal static class SweepAnalysis
{
    /// <summary>The optimum of every (parameterization, base shape, shape) in the runs.</summary>
    /// <param name="runs">The runs of a sweep.</param>
    /// <returns>One optimum per parameterization (in order of first appearance), base shape and shape (by depth, then width).</returns>
    public static IReadOnlyList<SweepOptimum> Optima(IEnumerable<SweepRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var list = runs.ToList();
        var order = list.Select(r => r.Parameterization).Distinct().Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        var curves = list
            .GroupBy(r => (r.Parameterization, r.BaseWidth, r.BaseDepth, r.Width, r.Depth))
            .OrderBy(g => order[g.Key.Parameterization]).ThenBy(g => g.Key.BaseDepth).ThenBy(g => g.Key.BaseWidth).ThenBy(g => g.Key.Depth).ThenBy(g => g.Key.Width)
            .Select(g => (g.Key, Curve: g.GroupBy(r => r.LearningRate).OrderBy(x => x.Key)
                .Select(x => new SweepPoint(x.Key, x.Average(r => r.Loss), x.Select(r => r.Seed).Distinct().Count())).ToList()))
            .ToList();

        var optima = new List<SweepOptimum>();
        foreach (var (key, curve) in curves)
        {
            var best = curve.MinBy(x => x.Loss)!;
            var reference = curves.Where(c => c.Key == (key.Parameterization, key.BaseWidth, key.BaseDepth, key.BaseWidth, key.BaseDepth))
                .Select(c => c.Curve.MinBy(x => x.Loss)).FirstOrDefault();
            optima.Add(new SweepOptimum(key.Parameterization, key.Width, key.Depth, key.BaseWidth, key.BaseDepth, curve, best,
                AtGridEdge: curve.Count > 1 && (best == curve[0] || best == curve[^1]),
                Drift: reference is null ? null : best.LearningRate / reference.LearningRate,
                LossAtBaseOptimum: reference is null ? null : curve.FirstOrDefault(x => x.LearningRate == reference.LearningRate)?.Loss));
        }

        return optima;
    }
}
