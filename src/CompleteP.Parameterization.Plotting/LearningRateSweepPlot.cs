using System.Globalization;
using CompleteP.Plotting.Internal;
using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace CompleteP.Plotting;

/// <summary>
/// Draws a learning-rate sweep as in Dey et al. (2025), Figure 1: one panel per parameterization, the
/// final loss against the base learning rate (log2 axis), one line per model size through the means over seeds
/// (runs of the same parameterization, size and rate), with error bars of one standard error where there are
/// several seeds, and the best rate of each line ringed. Where the parameterization transfers, the rings line up.
/// Named series (<see cref="LearningRatePoint.Series"/>: batch sizes, lengths, per-module settings) that span several
/// panels, or more curves than a legend inside a panel can show, get one legend beside the panels, each series in the
/// same colour and marker in every panel; the panels then wrap in rows of at most three.
/// </summary>
public static class LearningRateSweepPlot
{
    /// <summary>Pixels across one panel.</summary>
    internal const int PanelWidth = 460;

    /// <summary>Pixels down one panel.</summary>
    internal const int PanelHeight = 380;

    /// <summary>Pixels across the shared legend column (named series over several panels, or many curves).</summary>
    internal const int LegendWidth = 300;

    /// <summary>The most curves a legend inside a panel shows; more go to the shared legend column.</summary>
    internal const int MostCurvesInPanel = 6;

    /// <summary>The most panels in a row when the legend is shared.</summary>
    internal const int MostColumns = 3;

    /// <summary>Renders the sweep to a PNG.</summary>
    /// <param name="points">The runs; runs of one parameterization, size and rate (seeds) are drawn as their mean with a standard-error bar.
    /// Leave out diverged runs (and, to keep means comparable, the other seeds of a rate where one diverged).</param>
    /// <param name="pngPath">Where to write the PNG (its folder is created).</param>
    /// <param name="lossLabel">The y axis label.</param>
    /// <exception cref="ArgumentException">No runs, or a run with a non-positive learning rate.</exception>
    public static void Save(IEnumerable<LearningRatePoint> points, string pngPath, string lossLabel = "validation loss")
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        var runs = points.ToList();
        if (runs.Count == 0)
        {
            throw new ArgumentException("points holds no runs to draw.", nameof(points));
        }

        if (runs.Any(r => !(r.LearningRate > 0) || !double.IsFinite(r.Loss)))
        {
            throw new ArgumentException("points must have learning rates greater than 0 and finite losses.", nameof(points));
        }

        var panels = runs.GroupBy(r => r.Parameterization).ToList();
        // The curves: model sizes (by width, then depth), or the named series in the order they first appear.
        var series = runs.Select(r => r.Series).Distinct().ToList();
        var curves = runs.Select(r => (r.Width, r.Depth, r.Series)).Distinct()
            .OrderBy(s => series.IndexOf(s.Series)).ThenBy(s => s.Width).ThenBy(s => s.Depth).ToList();
        var rates = runs.Select(r => r.LearningRate).Distinct().Order().ToList();
        // Seed means and their standard errors, per (parameterization, curve, rate).
        var means = runs.GroupBy(r => (r.Parameterization, r.Width, r.Depth, r.Series, r.LearningRate))
            .Select(g => (g.Key, Mean: g.Average(r => r.Loss), Error: StandardError(g.Select(r => r.Loss).ToList()))).ToList();
        double lo = means.Min(m => m.Mean - m.Error), hi = means.Max(m => m.Mean + m.Error), pad = Math.Max(0.02, (hi - lo) * 0.06);
        string font = Theme.FontName();
        // One legend for all panels: named series across several panels (each series keeps its colour everywhere), or more
        // curves in a panel than fit a legend inside it.
        bool shared = series.Any(x => x is not null)
            && (panels.Count > 1 || panels.Any(g => g.Select(r => (r.Width, r.Depth, r.Series)).Distinct().Count() > MostCurvesInPanel));
        int Style((int Width, int Depth, string? Series) curve) => shared ? series.IndexOf(curve.Series) : curves.IndexOf(curve);
        int columns = shared ? Math.Min(MostColumns, panels.Count) : panels.Count, rows = (panels.Count + columns - 1) / columns;
        int width = (columns * PanelWidth) + (shared ? LegendWidth : 0), height = rows * PanelHeight;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
        surface.Canvas.Clear(SKColors.White);
        for (int p = 0; p < panels.Count; p++)
        {
            using var plot = new Plot();
            plot.FigureBackground.Color = Theme.Background;
            plot.DataBackground.Color = Theme.Background;
            plot.Font.Set(font);
            plot.Layout.Fixed(new PixelPadding(66, 14, 46, 38));
            plot.Axes.Title.Label.Text = panels[p].Key;
            plot.Axes.Title.Label.FontSize = 14;
            plot.Axes.Title.Label.Bold = true;
            plot.Axes.Bottom.Label.Text = "base learning rate (log2)";
            plot.Axes.Left.Label.Text = p % columns == 0 ? lossLabel : string.Empty;
            foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
            {
                axis.Label.FontSize = 13;
                axis.TickLabelStyle.FontSize = 12;
            }

            plot.Axes.Bottom.TickGenerator = new NumericManual(Ticks(rates));
            plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.13);
            foreach (var group in panels[p].GroupBy(r => (r.Width, r.Depth, r.Series)).OrderBy(g => curves.IndexOf(g.Key)))
            {
                var line = means.Where(m => m.Key.Parameterization == panels[p].Key && (m.Key.Width, m.Key.Depth, m.Key.Series) == group.Key)
                    .OrderBy(m => m.Key.LearningRate).ToList();
                int style = Style(group.Key);
                double[] xs = line.Select(m => Math.Log2(m.Key.LearningRate)).ToArray(), ys = line.Select(m => m.Mean).ToArray();
                if (line.Any(m => m.Error > 0))
                {
                    var bars = plot.Add.ErrorBar(xs, ys, line.Select(m => m.Error).ToArray());
                    bars.Color = Theme.ColorOf(style);
                    bars.LineWidth = 2;
                }

                var scatter = plot.Add.Scatter(xs, ys, Theme.ColorOf(style));
                scatter.LegendText = group.Key.Series
                    ?? (curves.Select(s => s.Width).Distinct().Count() > 1 ? $"width {group.Key.Width}, depth {group.Key.Depth}" : $"depth {group.Key.Depth}");
                scatter.LineWidth = 2;
                scatter.MarkerSize = 7;
                scatter.MarkerShape = Theme.MarkerOf(style);
                var best = line.MinBy(m => m.Mean);
                var ring = plot.Add.Marker(Math.Log2(best.Key.LearningRate), best.Mean, MarkerShape.OpenCircle, 18, Theme.ColorOf(style));
                ring.LegendText = string.Empty;
            }

            plot.Axes.SetLimits(Math.Log2(rates[0]) - 0.4, Math.Log2(rates[^1]) + 0.4, lo - pad, hi + pad);
            plot.Legend.IsVisible = !shared;
            plot.Legend.FontName = font;
            plot.Legend.FontSize = 12;
            plot.Legend.Alignment = Alignment.UpperLeft;
            using var cell = SKSurface.Create(new SKImageInfo(PanelWidth, PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
            plot.Render(cell.Canvas, PanelWidth, PanelHeight);
            using var image = cell.Snapshot();
            surface.Canvas.DrawImage(image, p % columns * PanelWidth, p / columns * PanelHeight);
        }

        if (shared)
        {
            using var legend = SharedLegend(series, font);
            using var cell = SKSurface.Create(new SKImageInfo(LegendWidth, height, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
            legend.Render(cell.Canvas, LegendWidth, height);
            using var image = cell.Snapshot();
            surface.Canvas.DrawImage(image, columns * PanelWidth, 0);
        }

        using var snapshot = surface.Snapshot();
        Write(snapshot, pngPath);
    }

    /// <summary>
    /// The x ticks: every rate tried, as a number, when there are at most 8 and they are not all powers of two in half
    /// octaves; every one, written 2^k, for up to 5 such powers; otherwise only the whole powers of two among them (every
    /// second one past 8), written 2^k, so the labels do not overlap.
    /// </summary>
    internal static Tick[] Ticks(IReadOnlyList<double> rates)
    {
        static bool HalfOctave(double r) => Math.Abs((2 * Math.Log2(r)) - Math.Round(2 * Math.Log2(r))) < 1e-9;
        bool powers = rates.All(HalfOctave);
        if (powers && rates.Count <= 5)
        {
            return rates.Select(r => new Tick(Math.Log2(r), string.Create(CultureInfo.InvariantCulture, $"2^{Math.Round(2 * Math.Log2(r)) / 2:0.#}"))).ToArray();
        }

        if (!powers && rates.Count <= 8)
        {
            return rates.Select(r => new Tick(Math.Log2(r), r.ToString("G3", CultureInfo.InvariantCulture))).ToArray();
        }

        double lo = Math.Ceiling(Math.Log2(rates[0]) - 1e-9), hi = Math.Floor(Math.Log2(rates[^1]) + 1e-9);
        int step = hi - lo > 8 ? 2 : 1;
        return Enumerable.Range(0, (int)(hi - lo) + 1).Where(k => k % step == 0)
            .Select(k => new Tick(lo + k, string.Create(CultureInfo.InvariantCulture, $"2^{lo + k:0}"))).ToArray();
    }

    /// <summary>The shared legend: one entry per series, in its colour and marker, top-aligned with the panels.</summary>
    private static Plot SharedLegend(IReadOnlyList<string?> series, string font) =>
        FigureRenderer.LegendOnly(series.Select((name, i) => new LegendItem
        {
            LabelText = name ?? "(no series)",
            LineColor = Theme.ColorOf(i),
            LineWidth = 2,
            MarkerShape = Theme.MarkerOf(i),
            MarkerSize = 7,
            MarkerFillColor = Theme.ColorOf(i),
            MarkerLineColor = Theme.ColorOf(i),
        }), font, 12);

    /// <summary>The standard error of a mean over seeds (sample standard deviation over sqrt(n)); 0 for one run.</summary>
    private static double StandardError(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
    }

    private static void Write(SKImage snapshot, string pngPath)
    {
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(pngPath);
        data.SaveTo(file);
    }
}
