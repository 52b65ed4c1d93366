using System.Globalization;
using CompleteP.Plotting.Internal;
using CompleteP.CoordinateChecks;

namespace CompleteP.Plotting;

/// <summary>
/// Draws coordinate checks (microsoft/mup's picture, extended to depth) and the laziness check of
/// Dey et al. (2025) as PNG files, with ScottPlot. Both axes are logarithmic: sizes in powers of two,
/// values in decades. Each call is independent; nothing is shared between calls.
/// </summary>
/// <remarks>
/// Rendering needs no display and no system library beyond glibc: ScottPlot's SkiaSharp native build
/// (<c>SkiaSharp.NativeAssets.Linux.NoDependencies</c>) reads font files under <c>/usr/share/fonts</c>
/// directly, without fontconfig. Without any font there, the figures still render, but with no text.
/// On Debian and Ubuntu, <c>fonts-dejavu-core</c> provides the font used (DejaVu Sans).
/// </remarks>
/// <example>
/// <code>
/// var result = CoordinateCheck.Run(factory, batches, loss, settings);
/// CoordinateCheckPlots.All(result.Measurements, laziness, "coord-check");
/// </code>
/// </example>
public static class CoordinateCheckPlots
{
    /// <summary>Pixels across one panel of a sweep figure.</summary>
    internal const int PanelWidth = 400;

    /// <summary>Pixels down one panel of a sweep figure.</summary>
    internal const int PanelHeight = 320;

    /// <summary>Pixels across the laziness figure.</summary>
    internal const int LazinessWidth = 520;

    /// <summary>Pixels down the laziness figure.</summary>
    internal const int LazinessHeight = 400;

    /// <summary>
    /// Pixels across the legend column that sweep figures with more than <see cref="MaxModulesInPanelLegends"/>
    /// modules have to the right of their panels (with fewer, each panel has its own legend).
    /// </summary>
    internal const int LegendColumnWidth = FigureRenderer.LegendColumnWidth;

    /// <summary>The most modules a sweep figure names in a legend inside each panel; with more, it has a legend column.</summary>
    internal const int MaxModulesInPanelLegends = 4;

    /// <summary>The file name <see cref="All"/> gives the width sweep.</summary>
    internal const string WidthSweepFileName = "widthsweep.png";

    /// <summary>The file name <see cref="All"/> gives the depth sweep.</summary>
    internal const string DepthSweepFileName = "depthsweep.png";

    /// <summary>The file name <see cref="All"/> gives the laziness figure.</summary>
    internal const string LazinessFileName = "laziness.png";

    /// <summary>
    /// Draws a width sweep: one row of panels per parameterization (in order of first appearance), one
    /// column per step; in each panel, x is the width (log2 axis), y the metric (log10 axis), and each
    /// module is a line with markers, averaged over seeds. Under muP-style parameterizations the lines
    /// are flat; under SP some grow with width. Each row of panels shares its y range; a module keeps its
    /// color and marker in every panel. With at most <see cref="MaxModulesInPanelLegends"/> modules each
    /// panel has a legend (in its emptiest corner); with more, one legend column to the right names them.
    /// </summary>
    /// <param name="data">Coordinate-check measurements. The sweep is the rows at one depth: if several depths
    /// were measured at two or more widths, the one with the most rows (ties: the first seen).</param>
    /// <param name="metric">Which size of each module's output to draw.</param>
    /// <param name="pngPath">Where to write the PNG (its folder is created if needed). The image is
    /// <see cref="PanelWidth"/> × steps wide (plus <see cref="LegendColumnWidth"/> when more than
    /// <see cref="MaxModulesInPanelLegends"/> modules are drawn) and <see cref="PanelHeight"/> × parameterizations high.</param>
    /// <param name="steps">The steps to draw, one column each; null for step 1 (for
    /// <see cref="CoordinateMetric.DeltaRms"/>, the first later step), the last step and up to two spread
    /// between.</param>
    /// <param name="moduleFilter">Which modules to draw, by name; null for all. At most 12 are drawn: when more
    /// pass, a representative set (embeddings, readout, the first, middle and last blocks' outputs, then
    /// their branches).</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="pngPath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty or has no width sweep, <paramref name="pngPath"/>
    /// is blank, <paramref name="steps"/> names a step the sweep lacks, or <paramref name="moduleFilter"/> passes no module.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a defined metric.</exception>
    public static void WidthSweep(
        IEnumerable<CoordinateMeasurement> data,
        CoordinateMetric metric,
        string pngPath,
        IReadOnlyList<int>? steps = null,
        Func<string, bool>? moduleFilter = null)
        => SweepAlong(SweepAxis.Width, data, metric, pngPath, steps, moduleFilter);

    /// <summary>
    /// Draws a depth sweep: as <see cref="WidthSweep"/>, with x the depth (log2 axis). Modules in blocks are
    /// compared by a normalized name: the last block's index becomes <c>last</c> (<c>transformer.h.11</c> at depth
    /// 12 and <c>transformer.h.3</c> at depth 4 are both <c>transformer.h.last</c>, the final residual stream),
    /// block 0 keeps its name, and modules of the other blocks are left out.
    /// </summary>
    /// <param name="data">Coordinate-check measurements. The sweep is the rows at one width: if several widths
    /// were measured at two or more depths, the one with the most rows (ties: the first seen).</param>
    /// <param name="metric">Which size of each module's output to draw.</param>
    /// <param name="pngPath">Where to write the PNG (its folder is created if needed).</param>
    /// <param name="steps">The steps to draw; null for the default choice (see <see cref="WidthSweep"/>).</param>
    /// <param name="moduleFilter">Which modules to draw, by their normalized name (<c>transformer.h.last</c>); null for all.
    /// At most 12 are drawn (see <see cref="WidthSweep"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="pngPath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty or has no depth sweep, <paramref name="pngPath"/>
    /// is blank, <paramref name="steps"/> names a step the sweep lacks, or <paramref name="moduleFilter"/> passes no module.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a defined metric.</exception>
    public static void DepthSweep(
        IEnumerable<CoordinateMeasurement> data,
        CoordinateMetric metric,
        string pngPath,
        IReadOnlyList<int>? steps = null,
        Func<string, bool>? moduleFilter = null)
        => SweepAlong(SweepAxis.Depth, data, metric, pngPath, steps, moduleFilter);

    /// <summary>
    /// Draws the laziness check (after Dey et al. 2025, Figure 6): x is the depth L (log2 axis), y the
    /// relative nonlinearity of a residual branch's one-step update, <c>|Δh − JΔθ| / |JΔθ|</c>, averaged over branches and
    /// seeds (log10 axis), one line per parameterization. For each depth exponent alpha present, a light dashed
    /// line shows the slope <c>L^(alpha−1)</c> through that parameterization's first point: flat for CompleteP
    /// (alpha = 1; blocks stay nonlinear, "not lazy"), falling as <c>L^−0.5</c> for depth-muP (alpha = 0.5).
    /// </summary>
    /// <param name="data">Laziness measurements. If several widths are present, the one with the most rows is drawn.</param>
    /// <param name="pngPath">Where to write the PNG (<see cref="LazinessWidth"/> × <see cref="LazinessHeight"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="pngPath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty or has no finite positive relative
    /// nonlinearity, or <paramref name="pngPath"/> is blank.</exception>
    public static void Laziness(IEnumerable<LazinessMeasurement> data, string pngPath)
    {
        var rows = CheckData(data, nameof(data));
        CheckPath(pngPath);
        var spec = LazinessSpec(rows, nameof(data));
        FigureRenderer.SavePng(spec, pngPath);
    }

    /// <summary>
    /// Writes every figure the data allows into <paramref name="folder"/> (created if needed):
    /// <see cref="WidthSweepFileName"/> if the data has a width sweep, <see cref="DepthSweepFileName"/> if it has a
    /// depth sweep, and <see cref="LazinessFileName"/> if laziness measurements are given.
    /// </summary>
    /// <param name="data">Coordinate-check measurements.</param>
    /// <param name="laziness">Laziness measurements; null or empty for none.</param>
    /// <param name="folder">The folder to write into.</param>
    /// <param name="metric">Which size of each module's output the sweeps draw.</param>
    /// <returns>The full paths of the files written, in the order above.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="folder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, <paramref name="folder"/> is blank, or
    /// there is nothing to draw (no sweep and no laziness measurements).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a defined metric.</exception>
    public static IReadOnlyList<string> All(
        IEnumerable<CoordinateMeasurement> data,
        IEnumerable<LazinessMeasurement>? laziness,
        string folder,
        CoordinateMetric metric = CoordinateMetric.Rms)
    {
        var rows = CheckData(data, nameof(data));
        ArgumentNullException.ThrowIfNull(folder);
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new ArgumentException("folder must name a folder.", nameof(folder));
        }

        CheckMetric(metric);
        var lazinessRows = laziness?.ToList() ?? [];
        if (lazinessRows.Any(r => r is null))
        {
            throw new ArgumentException("laziness contains a null measurement.", nameof(laziness));
        }

        int? depth = Sweeps.FixedSize(rows, SweepAxis.Width);
        int? width = Sweeps.FixedSize(rows, SweepAxis.Depth);
        if (depth is null && width is null && lazinessRows.Count == 0)
        {
            throw new ArgumentException(
                "data has neither a width sweep (one depth at two or more widths) nor a depth sweep (one width at two or more depths), and no laziness measurements were given.",
                nameof(data));
        }

        string root = Path.GetFullPath(folder);
        Directory.CreateDirectory(root);
        var written = new List<string>();
        if (depth is { } d)
        {
            string path = Path.Combine(root, WidthSweepFileName);
            Sweep(rows, SweepAxis.Width, d, metric, path, null, null);
            written.Add(path);
        }

        if (width is { } w)
        {
            string path = Path.Combine(root, DepthSweepFileName);
            Sweep(rows, SweepAxis.Depth, w, metric, path, null, null);
            written.Add(path);
        }

        if (lazinessRows.Count > 0)
        {
            string path = Path.Combine(root, LazinessFileName);
            FigureRenderer.SavePng(LazinessSpec(lazinessRows, nameof(laziness)), path);
            written.Add(path);
        }

        return written;
    }

    /// <summary>The y axis label of a metric.</summary>
    internal static string MetricLabel(CoordinateMetric metric) => metric switch
    {
        CoordinateMetric.MeanAbs => "mean |x| of module output",
        CoordinateMetric.Rms => "rms of module output",
        CoordinateMetric.DeltaRms => "rms of output change since step 1",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be MeanAbs, Rms or DeltaRms."),
    };

    /// <summary>Checks the arguments of <see cref="WidthSweep"/> or <see cref="DepthSweep"/> and draws the sweep along <paramref name="axis"/>.</summary>
    private static void SweepAlong(
        SweepAxis axis, IEnumerable<CoordinateMeasurement> data, CoordinateMetric metric, string pngPath,
        IReadOnlyList<int>? steps, Func<string, bool>? moduleFilter)
    {
        var rows = CheckData(data, nameof(data));
        CheckCommon(metric, pngPath);
        var (swept, held) = axis == SweepAxis.Width ? ("width", "depth") : ("depth", "width");
        int fixedSize = Sweeps.FixedSize(rows, axis)
            ?? throw new ArgumentException(
                $"data has no {swept} sweep: every {held} ({Sweeps.Join(rows.Select(r => axis == SweepAxis.Width ? r.Depth : r.Width).Distinct().Order())}) was measured at a single {swept}.",
                nameof(data));
        Sweep(rows, axis, fixedSize, metric, pngPath, steps, moduleFilter);
    }

    private static void Sweep(
        List<CoordinateMeasurement> rows, SweepAxis axis, int fixedSize, CoordinateMetric metric, string pngPath,
        IReadOnlyList<int>? steps, Func<string, bool>? moduleFilter)
    {
        var (points, modules) = Sweeps.Points(rows, axis, fixedSize, metric);
        var present = points.Select(p => p.Step).Distinct().ToList();
        var columns = steps is null ? Sweeps.DefaultSteps(present, metric) : Sweeps.CheckSteps(steps, present, nameof(steps));

        if (moduleFilter is not null)
        {
            modules = modules.Where(m => moduleFilter(m.Name)).ToList();
            if (modules.Count == 0)
            {
                throw new ArgumentException("moduleFilter passes none of the sweep's modules.", nameof(moduleFilter));
            }
        }

        var shown = Sweeps.Representative(modules);
        var style = shown.Select((m, i) => (m.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var parameterizations = points.Select(p => p.Parameterization).Distinct(StringComparer.Ordinal).ToList();
        var byPanel = points
            .Where(p => style.ContainsKey(p.Module))
            .ToLookup(p => (p.Parameterization, p.Step));

        var panels = new List<PanelSpec>();
        foreach (var parameterization in parameterizations)
        {
            foreach (int step in columns)
            {
                var series = byPanel[(parameterization, step)]
                    .GroupBy(p => p.Module, StringComparer.Ordinal)
                    .Select(g =>
                    {
                        var (sizes, values) = Sweeps.Average(g);
                        return new Series(g.Key, style[g.Key], sizes, values);
                    })
                    .OrderBy(s => s.Style)
                    .ToList();
                panels.Add(new PanelSpec($"{parameterization} · step {step.ToString(CultureInfo.InvariantCulture)}", series));
            }
        }

        bool few = shown.Count <= MaxModulesInPanelLegends;
        var spec = new FigureSpec(
            parameterizations.Count,
            columns.Count,
            PanelWidth,
            PanelHeight,
            panels,
            axis == SweepAxis.Width ? "width (log2)" : "depth (log2)",
            MetricLabel(metric),
            points.Select(p => p.Size).Distinct().ToList(),
            few ? LegendPlacement.EveryPanel : LegendPlacement.Column,
            LegendFontSize: few ? 10 : 11);
        FigureRenderer.SavePng(spec, pngPath);
    }

    private static FigureSpec LazinessSpec(List<LazinessMeasurement> rows, string parameterName)
    {
        var usable = rows.Where(r => double.IsFinite(r.RelativeNonlinearity) && r.RelativeNonlinearity > 0).ToList();
        if (usable.Count == 0)
        {
            throw new ArgumentException(
                $"{parameterName} has no finite positive relative nonlinearity (every linear change is zero, or a value is not a number).",
                parameterName);
        }

        int width = usable
            .Select((r, i) => (r.Width, Index: i))
            .GroupBy(x => x.Width)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.First().Index)
            .First()
            .Key;
        usable = usable.Where(r => r.Width == width).ToList();
        var parameterizations = usable.Select(r => r.Parameterization).Distinct(StringComparer.Ordinal).ToList();

        var series = new List<Series>();
        var guides = new List<Series>();
        var alphas = new HashSet<double>();
        for (int i = 0; i < parameterizations.Count; i++)
        {
            string name = parameterizations[i];
            var means = usable
                .Where(r => r.Parameterization == name)
                .GroupBy(r => r.Depth)
                .Select(g => (Depth: g.Key, Mean: g.Average(r => r.RelativeNonlinearity)))
                .OrderBy(x => x.Depth)
                .ToList();
            series.Add(new Series(name, i, [.. means.Select(x => (double)x.Depth)], [.. means.Select(x => x.Mean)]));

            if (CoordinateCheckReport.DepthExponent(name) is { } alpha && alphas.Add(alpha) && means.Count >= 2)
            {
                double d0 = means[0].Depth, y0 = means[0].Mean, d1 = means[^1].Depth;
                guides.Add(new Series(
                    $"∝ L^(α−1), α = {alpha.ToString("0.###", CultureInfo.InvariantCulture)}",
                    i,
                    [d0, d1],
                    [y0, y0 * Math.Pow(d1 / d0, alpha - 1)],
                    Reference: true));
            }
        }

        var panel = new PanelSpec(
            $"Laziness: relative nonlinearity vs depth (width {width.ToString(CultureInfo.InvariantCulture)})",
            [.. series, .. guides]);
        return new FigureSpec(
            1,
            1,
            LazinessWidth,
            LazinessHeight,
            [panel],
            "depth L (log2)",
            "|Δh − JΔθ| / |JΔθ|, mean over branches",
            usable.Select(r => r.Depth).Distinct().ToList(),
            LegendPlacement.EveryPanel,
            LegendFontSize: 11);
    }

    private static List<T> CheckData<T>(IEnumerable<T> data, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(data, parameterName);
        var rows = data.ToList();
        if (rows.Count == 0)
        {
            throw new ArgumentException($"{parameterName} is empty: there is nothing to draw.", parameterName);
        }

        if (rows.Any(r => r is null))
        {
            throw new ArgumentException($"{parameterName} contains a null measurement.", parameterName);
        }

        foreach (var row in rows)
        {
            var (parameterization, module, width, depth) = row switch
            {
                CoordinateMeasurement m => (m.Parameterization, m.Module, m.Width, m.Depth),
                LazinessMeasurement m => (m.Parameterization, m.Branch, m.Width, m.Depth),
                _ => (string.Empty, string.Empty, 1, 1),
            };
            if (parameterization is null || module is null)
            {
                throw new ArgumentException($"{parameterName} contains a measurement without a parameterization or module name: {row}.", parameterName);
            }

            if (width <= 0 || depth <= 0)
            {
                throw new ArgumentException($"{parameterName} contains a measurement with a width or depth below 1: {row}.", parameterName);
            }
        }

        return rows;
    }

    private static void CheckCommon(CoordinateMetric metric, string pngPath)
    {
        CheckMetric(metric);
        CheckPath(pngPath);
    }

    private static void CheckMetric(CoordinateMetric metric)
    {
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be MeanAbs, Rms or DeltaRms.");
        }
    }

    private static void CheckPath(string pngPath)
    {
        ArgumentNullException.ThrowIfNull(pngPath);
        if (string.IsNullOrWhiteSpace(pngPath))
        {
            throw new ArgumentException("pngPath must name a file.", nameof(pngPath));
        }
    }
}
