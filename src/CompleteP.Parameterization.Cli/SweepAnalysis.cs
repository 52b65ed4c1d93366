using System.Globalization;

namespace CompleteP.Cli;

/// <summary>
/// Finds, per parameterization and shape, the best base learning rate (from the seed means, refined by a parabola in
/// log2(learning rate) through the best grid point and its two neighbours), its drift from the base shape in octaves,
/// the regret of using the base shape's best learning rate there, and a verdict that says when the data cannot decide.
/// </summary>
internal static class SweepAnalysis
{
    /// <summary>The fewest seeds a verdict other than inconclusive needs.</summary>
    public const int MinSeeds = 3;

    /// <summary>The default largest drift, in octaves, that still counts as transfer (one step of a half-octave grid).</summary>
    public const double DefaultTolerance = 0.5;

    /// <summary>The optimum of every (parameterization, base shape, shape) in the runs.</summary>
    /// <param name="runs">The runs of a sweep.</param>
    /// <param name="tolerance">The largest drift in octaves that counts as transfer; at least 0.</param>
    /// <returns>One optimum per parameterization (in order of first appearance), base shape and shape (by depth, then width).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tolerance"/> is negative or not finite.</exception>
    public static IReadOnlyList<SweepOptimum> Optima(IEnumerable<SweepRun> runs, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (!(tolerance >= 0) || !double.IsFinite(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be a finite number of octaves of at least 0.");
        }

        var list = runs.ToList();
        var baseOf = TrainingBases(list);
        var order = list.Select(r => r.Parameterization).Distinct().Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        var curves = list
            .GroupBy(r => (r.Parameterization, r.Hp, Rule: r.DeclaredBase is not null, r.BaseWidth, r.BaseDepth, BaseTraining: baseOf(r), r.Width, r.Depth, r.Training))
            .OrderBy(g => order[g.Key.Parameterization]).ThenBy(g => g.Key.Hp, StringComparer.Ordinal).ThenBy(g => g.Key.Rule).ThenBy(g => g.Key.BaseDepth).ThenBy(g => g.Key.BaseWidth)
            .ThenBy(g => g.Key.Training.Batch).ThenBy(g => g.Key.Training.Steps).ThenBy(g => g.Key.Depth).ThenBy(g => g.Key.Width)
            .Select(g => (g.Key, Curve: (IReadOnlyList<SweepPoint>)g.GroupBy(r => r.LearningRate).OrderBy(x => x.Key).Select(x => SweepPoint.Of(x.Key, x.ToList())).ToList()))
            .ToList();
        var fits = curves.ToDictionary(c => c.Key, c => Fit(c.Curve));
        var byKey = curves.ToDictionary(c => c.Key, c => c.Curve);

        var optima = new List<SweepOptimum>();
        foreach (var (key, curve) in curves)
        {
            var (best, fitted, edge) = fits[key];
            // The base shape. A sweep across batch sizes or lengths with no run at the base model shape compares each run
            // with the same model at the base run's batch and length.
            var baseKey = key with { Width = key.BaseWidth, Depth = key.BaseDepth, Training = key.BaseTraining };
            var sameModel = key with { Training = key.BaseTraining };
            string? against = null;
            if (!fits.ContainsKey(baseKey) && fits.ContainsKey(sameModel) && curves.Any(c => c.Key.Training != key.Training && c.Key with { Training = key.Training } == key))
            {
                baseKey = sameModel;
            }
            else if (!fits.ContainsKey(baseKey))
            {
                // No run at the base model shape: a width sweep at another depth compares with the base width at its own depth,
                // a depth sweep at another width with the base depth at its own width (one of the two, never both at once; and
                // only where the sweep varies that dimension, so that a lone shape is not its own reference).
                var atDepth = baseKey with { Depth = key.Depth };
                var atWidth = baseKey with { Width = key.Width };
                bool byWidth = key.Depth != key.BaseDepth && fits.ContainsKey(atDepth) && curves.Any(c => c.Key != atDepth && c.Key with { Width = atDepth.Width } == atDepth);
                bool byDepth = key.Width != key.BaseWidth && fits.ContainsKey(atWidth) && curves.Any(c => c.Key != atWidth && c.Key with { Depth = atWidth.Depth } == atWidth);
                if (byWidth != byDepth)
                {
                    baseKey = byWidth ? atDepth : atWidth;
                    against = $"against {baseKey.Width}x{baseKey.Depth}, as no run is at the base shape {key.BaseWidth}x{key.BaseDepth}";
                }
            }

            bool isBase = key == baseKey;
            void Add(double? drift, double? lossAtBase, double? regret, double? regretError, TransferVerdict? verdict, string reason) =>
                optima.Add(new SweepOptimum(key.Parameterization, key.Width, key.Depth, key.BaseWidth, key.BaseDepth, curve, best, fitted, edge,
                    drift, lossAtBase, regret, regretError, verdict, reason)
                { Training = key.Training, BaseTraining = key.BaseTraining, Rule = key.Rule, IsBase = isBase, Hp = key.Hp });

            if (!fits.TryGetValue(baseKey, out var reference))
            {
                string where = key.BaseTraining == key.Training && !key.Rule ? string.Empty : $", {key.BaseTraining}";
                Add(null, null, null, null, TransferVerdict.Inconclusive, $"no run at the base shape {key.BaseWidth}x{key.BaseDepth}{where}");
                continue;
            }

            double? drift = fitted is double f && reference.Fitted is double r ? Math.Log2(f / r) : null;
            var atBase = reference.Best is null ? null : curve.FirstOrDefault(p => p.LearningRate == reference.Best.LearningRate);
            double? regret = best is null || atBase is null ? null : atBase.Loss - best.Loss;
            double? regretError = best is null || atBase is null ? null : PairedStandardError(atBase, best);
            var (verdict, reason) = isBase
                ? ((TransferVerdict?)null, against is not null ? $"reference: {against}" : key.Width == key.BaseWidth && key.Depth == key.BaseDepth ? "base shape" : "base run")
                : Judge(curve, byKey[baseKey], best, edge, reference, atBase, drift, regret, regretError, tolerance);
            Add(drift, atBase?.Loss, regret, regretError, verdict, isBase || against is null ? reason : $"{reason} ({against})");
        }

        return optima;
    }

    /// <summary>
    /// The base run each run's learning rate is compared with: the one its row declares (the batch and length rules
    /// scaled from it); for a row that declares none, its parameterization's only training shape among such rows, or
    /// else the one base run the file's other rows declare (so a sweep with and without the rules shares its base).
    /// </summary>
    /// <exception cref="ArgumentException">Rows without a base run span several training shapes and the file declares no single base run.</exception>
    private static Func<SweepRun, SweepTraining> TrainingBases(IReadOnlyList<SweepRun> runs)
    {
        var declared = runs.Select(r => r.DeclaredBase).OfType<SweepTraining>().Distinct().ToList();
        var undeclared = runs.Where(r => r.DeclaredBase is null).GroupBy(r => r.Parameterization, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Training).Distinct().ToList(), StringComparer.Ordinal);
        foreach (var (name, trainings) in undeclared)
        {
            if (trainings.Count > 1 && declared.Count != 1)
            {
                throw new ArgumentException(
                    $"csv: the {name} runs without a base run (empty baseTokensPerStep and baseTokens) have {trainings.Count} training shapes ({string.Join("; ", trainings)}), "
                    + $"and the file declares {(declared.Count == 0 ? "no base run" : $"{declared.Count} base runs")} to compare them with. "
                    + "Write the base run's baseTokensPerStep and baseTokens on the rows that transfer from it, or analyze each training shape in a file of its own.", "csv");
            }
        }

        return r => r.DeclaredBase ?? (undeclared[r.Parameterization] is [var only] ? only : declared[0]);
    }

    /// <summary>
    /// The x of the vertex of the parabola through three points (x0 &lt; x1 &lt; x2, y1 the lowest): where the parabola
    /// has its minimum, inside [x0, x2]. Three points on a line with y1 lowest (all equal) give x1.
    /// </summary>
    public static double Vertex(double x0, double y0, double x1, double y1, double x2, double y2)
    {
        double a = (x1 - x0) * (y1 - y2), b = (x1 - x2) * (y1 - y0);
        double denominator = a - b;
        return denominator == 0 ? x1 : x1 - 0.5 * (((x1 - x0) * a) - ((x1 - x2) * b)) / denominator;
    }

    /// <summary>The standard error of the mean of <paramref name="values"/> (sample standard deviation over sqrt(n)); null for fewer than 2.</summary>
    public static double? StandardError(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2)
        {
            return null;
        }

        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }

    /// <summary>The best grid point (lowest finite mean), the parabola's vertex through it and its neighbours, and whether it sits on the grid's edge.</summary>
    private static (SweepPoint? Best, double? Fitted, bool Edge) Fit(IReadOnlyList<SweepPoint> curve)
    {
        var best = curve.Where(p => !p.Diverged).MinBy(p => p.Loss);
        if (best is null)
        {
            return (null, null, false);
        }

        int i = curve.ToList().IndexOf(best);
        bool edge = curve.Count > 1 && (i == 0 || i == curve.Count - 1);
        if (edge || curve.Count < 3 || curve[i - 1].Diverged || curve[i + 1].Diverged)
        {
            return (best, best.LearningRate, edge);
        }

        double x = Vertex(Math.Log2(curve[i - 1].LearningRate), curve[i - 1].Loss, Math.Log2(best.LearningRate), best.Loss,
            Math.Log2(curve[i + 1].LearningRate), curve[i + 1].Loss);
        return (best, Math.Pow(2, x), false);
    }

    /// <summary>The standard error of the mean per-seed difference of two points over their common seeds; 0 for the same point.</summary>
    private static double? PairedStandardError(SweepPoint a, SweepPoint b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }

        if (a.Diverged || b.Diverged)
        {
            return null;
        }

        return StandardError(a.BySeed.Keys.Intersect(b.BySeed.Keys).Select(s => a.BySeed[s] - b.BySeed[s]).ToList());
    }

    private static (TransferVerdict? Verdict, string Reason) Judge(IReadOnlyList<SweepPoint> curve, IReadOnlyList<SweepPoint> baseCurve, SweepPoint? best, bool edge,
        (SweepPoint? Best, double? Fitted, bool Edge) reference, SweepPoint? atBase, double? drift, double? regret, double? regretError, double tolerance)
    {
        if (best is null)
        {
            return (TransferVerdict.Inconclusive, "every learning rate diverged");
        }

        if (reference.Best is null)
        {
            return (TransferVerdict.Inconclusive, "every learning rate diverged at the base shape");
        }

        if (curve.Count < 3)
        {
            return (TransferVerdict.Inconclusive, string.Create(CultureInfo.InvariantCulture, $"fewer than 3 learning rates tried ({curve.Count})"));
        }

        if (edge)
        {
            return (TransferVerdict.Inconclusive, best == curve[0] ? "optimum at the lowest lr tried" : "optimum at the highest lr tried");
        }

        if (reference.Edge)
        {
            return (TransferVerdict.Inconclusive, "the base shape's optimum is at the grid's edge");
        }

        // Every point of both curves counts: a sweep stopped part-way has means over different seeds, which do not compare.
        int seeds = Math.Min(curve.Min(p => p.Seeds), baseCurve.Min(p => p.Seeds));
        if (seeds < MinSeeds)
        {
            return (TransferVerdict.Inconclusive, string.Create(CultureInfo.InvariantCulture, $"fewer than {MinSeeds} seeds ({seeds})"));
        }

        if (atBase is null)
        {
            return (TransferVerdict.Inconclusive, "the base shape's best lr was not tried here");
        }

        if (atBase.Diverged)
        {
            return (TransferVerdict.Drifts, "the base shape's best lr diverges here");
        }

        if (Math.Abs(drift!.Value) <= tolerance)
        {
            return (TransferVerdict.Transfers, string.Create(CultureInfo.InvariantCulture, $"drift within {tolerance:G3} octave"));
        }

        return regret > 2 * (regretError ?? double.PositiveInfinity)
            ? (TransferVerdict.Drifts, "regret above 2 standard errors")
            : (TransferVerdict.Inconclusive, "regret within 2 standard errors of zero");
    }
}
