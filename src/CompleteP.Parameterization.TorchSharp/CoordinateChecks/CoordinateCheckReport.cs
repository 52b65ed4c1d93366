using System.Globalization;
using System.Text;

namespace CompleteP.CoordinateChecks;


/// <summary>
/// Verdicts of a coordinate check: for every parameterization, module and step, the slope of
/// log2(output size) against log2(width) and against log2(depth), compared with the exponent the
/// parameterization predicts; and the laziness slope against <c>alpha - 1</c>.
/// </summary>
/// <remarks>
/// Predicted exponents: 0 (flat) for every recorded module across width under muP and CompleteP; across
/// depth, 0 for the final residual stream (the last block's output) and the modules outside the blocks
/// under CompleteP and any alpha (rules.md's depth check). Residual branches are recorded but not judged
/// across depth (their output mixes an O(1) initial part and an <c>L^(alpha-1)</c> update). Known exception: the readout
/// (logits) shrinks with width at initialization under muP-style rules (<c>alpha_out / m_N</c> with a
/// fixed init std gives logits of size <c>m_N^-1/2</c>), so its verdict fails only on growth.
/// SP has the same expectations and fails them: that is the point of the check.
/// </remarks>
public sealed class CoordinateCheckReport
{
    /// <summary>The default tolerance on a slope.</summary>
    public static double DefaultTolerance => Tolerance;

    /// <summary><see cref="DefaultTolerance"/> as a constant, for default arguments.</summary>
    internal const double Tolerance = 0.25;

    private CoordinateCheckReport(CoordinateMetric metric, IReadOnlyList<SlopeVerdict> width, IReadOnlyList<SlopeVerdict> depth, IReadOnlyList<LazinessVerdict> laziness, int? minVerdictWidth)
    {
        Metric = metric;
        MinVerdictWidth = minVerdictWidth;
        WidthVerdicts = width;
        DepthVerdicts = depth;
        LazinessVerdicts = laziness;
    }

    /// <summary>The metric the slopes were fitted on.</summary>
    public CoordinateMetric Metric { get; }

    /// <summary>The narrowest width the width verdicts use (narrower widths are measured and plotted, not judged); null for all.</summary>
    public int? MinVerdictWidth { get; }

    /// <summary>Verdicts across width.</summary>
    public IReadOnlyList<SlopeVerdict> WidthVerdicts { get; }

    /// <summary>Verdicts across depth.</summary>
    public IReadOnlyList<SlopeVerdict> DepthVerdicts { get; }

    /// <summary>Laziness verdicts, one per parameterization (empty when no laziness check ran).</summary>
    public IReadOnlyList<LazinessVerdict> LazinessVerdicts { get; }

    /// <summary>Fits every slope.</summary>
    /// <param name="measurements">Coordinate measurements.</param>
    /// <param name="laziness">Laziness measurements (may be empty).</param>
    /// <param name="metric">The metric to fit.</param>
    /// <param name="tolerance">How far a slope may stray from its prediction; greater than 0.</param>
    /// <param name="minVerdictWidth">
    /// Judge the width sweep from this width up (null: every width). At the narrowest widths some modules have not
    /// reached their large-width size (with few heads, attention outputs are still shrinking toward it), a finite-width
    /// effect that muP does not address; setting them aside judges the scaling, not the small-width transient.
    /// </param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The tolerance is not greater than 0, or <paramref name="minVerdictWidth"/> is less than 1.</exception>
    public static CoordinateCheckReport Analyze(IEnumerable<CoordinateMeasurement> measurements, IEnumerable<LazinessMeasurement> laziness,
        CoordinateMetric metric = CoordinateMetric.Rms, double tolerance = Tolerance, int? minVerdictWidth = null)
    {
        if (minVerdictWidth is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minVerdictWidth), minVerdictWidth, "minVerdictWidth must be at least 1 (or null for every width).");
        }

        ArgumentNullException.ThrowIfNull(measurements);
        ArgumentNullException.ThrowIfNull(laziness);
        if (!(tolerance > 0) || double.IsInfinity(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be a finite number greater than 0.");
        }

        var rows = measurements.ToList();
        var width = new List<SlopeVerdict>();
        var depth = new List<SlopeVerdict>();
        foreach (var byParameterization in rows.GroupBy(r => r.Parameterization))
        {

            // Width sweeps: rows at one depth across several widths.
            foreach (var atDepth in byParameterization.GroupBy(r => r.Depth).Select(g => g.Where(r => r.Width >= (minVerdictWidth ?? 0)).ToList())
                         .Where(g => g.Select(r => r.Width).Distinct().Count() > 1))
            {
                width.AddRange(Fit(atDepth, r => r.Width, r => r.Module, metric, byParameterization.Key, SweepAxis.Width, tolerance, _ => 0.0));
            }

            // Depth sweeps: rows at one width across several depths; the last block is compared as "last".
            foreach (var atWidth in byParameterization.GroupBy(r => r.Width).Where(g => g.Select(r => r.Depth).Distinct().Count() > 1))
            {
                // Compared across depth: the modules outside the blocks and the final residual stream (the last
                // block's output). Residual branches are not judged: their output m_L^-alpha * (F_0 + dF) mixes
                // the O(1) initial F_0 with the update dF ~ L^(alpha-1), so no single exponent is predicted.
                var comparable = atWidth.Where(r => r.Kind is not (ModuleKind.Branch or ModuleKind.BranchOutput) && ModuleNames.DepthKey(r) is not null).ToList();
                depth.AddRange(Fit(comparable, r => r.Depth, r => ModuleNames.DepthKey(r)!, metric, byParameterization.Key, SweepAxis.Depth, tolerance, _ => 0.0));
                if (!comparable.Any(r => r.Kind == ModuleKind.ResidualStream || (r.Kind == ModuleKind.Block && r.BlockIndex == r.Depth - 1)))
                {
                    // The depth check is about the residual stream: without it, it cannot fail, so it fails.
                    depth.Add(new SlopeVerdict(byParameterization.Key, SweepAxis.Depth, "(residual stream)", ModuleKind.ResidualStream, 0, double.NaN, 0, tolerance, false, 0,
                        "no residual stream was recorded (neither the last block's output nor the final norm's input): the blocks are not Tensor-to-Tensor modules invoked through call, and no final norm was found"));
                }
            }
        }

        var lazy = laziness.GroupBy(l => l.Parameterization).Select(g =>
        {
            var points = g.GroupBy(l => l.Depth).Select(d => (X: Math.Log2(d.Key), Y: Math.Log2(d.Average(l => l.RelativeNonlinearity)))).ToList();
            double alpha = DepthExponent(g.Key) ?? 0;
            return new LazinessVerdict(g.Key, SlopeOf(points), alpha == 0 ? 0 : alpha - 1, tolerance, points.Count);
        }).Where(v => v.Points > 1).ToList();

        return new CoordinateCheckReport(metric, width, depth, lazy, minVerdictWidth);
    }

    /// <summary>What a sweep's verdict is when its control passed too.</summary>
    internal const string InconclusiveMessage = "inconclusive: the control passed too, so these settings cannot tell";

    /// <summary>The parameterization that must fail a sweep along <paramref name="axis"/>: SP across width, muP across depth.</summary>
    /// <param name="axis">The axis.</param>
    /// <returns>The control.</returns>
    internal static Parameterization ControlFor(SweepAxis axis) => axis == SweepAxis.Width ? Parameterization.Standard : Parameterization.MuP;

    /// <summary>
    /// Whether the sweep along <paramref name="axis"/> cannot tell right from wrong: its control (<see cref="ControlFor"/>) was
    /// run and every one of its verdicts passed. A pass of any other parameterization along that axis is then inconclusive.
    /// </summary>
    /// <param name="axis">The axis.</param>
    /// <returns>True when the control passed.</returns>
    public bool IsInconclusive(SweepAxis axis)
    {
        string control = ControlFor(axis).Name;
        var verdicts = (axis == SweepAxis.Width ? WidthVerdicts : DepthVerdicts).Where(v => v.Parameterization == control).ToList();
        return verdicts.Count > 0 && verdicts.All(v => v.Passed);
    }

    /// <summary>The verdicts that failed.</summary>
    /// <param name="axis">The axis.</param>
    /// <returns>The failures.</returns>
    public IEnumerable<SlopeVerdict> Failures(SweepAxis axis) => (axis == SweepAxis.Width ? WidthVerdicts : DepthVerdicts).Where(v => !v.Passed);

    /// <summary>A human-readable summary: per parameterization and axis, pass or fail with the worst slopes.</summary>
    /// <returns>The summary, in Markdown.</returns>
    public string Summary()
    {
        var sb = new StringBuilder();
        if (MinVerdictWidth is { } min)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Width verdicts judge widths {min} and up; narrower widths are measured and plotted only.\n\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"| parameterization | axis | verdict | modules x steps checked | worst slope (module, step) |\n|---|---|---|---:|---|\n");
        foreach (var (axis, verdicts) in new[] { (SweepAxis.Width, WidthVerdicts), (SweepAxis.Depth, DepthVerdicts) })
        {
            foreach (var g in verdicts.GroupBy(v => v.Parameterization))
            {
                var worst = g.OrderByDescending(v => Math.Abs(v.Slope - v.Expected)).First();
                bool control = g.Key == ControlFor(axis).Name;
                string verdict = !g.All(v => v.Passed) ? $"UNSTABLE ({g.Count(v => !v.Passed)} fail){(control ? ", as the control must" : string.Empty)}"
                    : control ? "stable, but it is the control and must fail"
                    : IsInconclusive(axis) ? InconclusiveMessage
                    : "stable";
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {g.Key} | {axis.ToString().ToLowerInvariant()} | {verdict} | {g.Count()} | {worst.Slope:F2} (expected {worst.Expected:F2}; {worst.Module}, step {worst.Step}) |\n");
            }
        }

        foreach (var v in LazinessVerdicts)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {v.Parameterization} | laziness | {(v.Passed ? "as predicted" : "NOT as predicted")} | {v.Points} depths | {v.Slope:F2} (expected {v.Expected:F2}) |\n");
        }

        return sb.ToString();
    }

    /// <summary>The depth exponent alpha of a parameterization's name, or null (SP, muP, names that are not a parameterization).</summary>
    internal static double? DepthExponent(string name)
    {
        try
        {
            return Parameterization.Parse(name).DepthExponent;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static IEnumerable<SlopeVerdict> Fit(IEnumerable<CoordinateMeasurement> rows, Func<CoordinateMeasurement, int> x,
        Func<CoordinateMeasurement, string> key, CoordinateMetric metric, string parameterization, SweepAxis axis, double tolerance,
        Func<ModuleKind, double> expected)
    {
        foreach (var g in rows.GroupBy(r => (Module: key(r), r.Step)))
        {
            var points = g.GroupBy(x)
                .Select(p => (X: Math.Log2(p.Key), Mean: p.Average(r => r.Value(metric))))
                .Where(p => p.Mean > 0 && double.IsFinite(p.Mean))
                .Select(p => (p.X, Y: Math.Log2(p.Mean)))
                .ToList();
            if (points.Count < 2)
            {
                continue;
            }

            var kind = g.First().Kind;
            yield return new SlopeVerdict(parameterization, axis, g.Key.Module, kind, g.Key.Step, SlopeOf(points), expected(kind), tolerance,
                OneSided: kind is ModuleKind.Readout or ModuleKind.BlockReadout, points.Count);
        }
    }

    private static double SlopeOf(IReadOnlyList<(double X, double Y)> points)
    {
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        double sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx == 0 ? 0 : points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
    }
}
