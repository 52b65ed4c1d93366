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
/// </summary>
public static class LearningRateSweepPlot
{
    /// <summary>Pixels across one panel.</summary>
    internal const int PanelWidth = 460;

    /// <summary>Pixels down one panel.</summary>
    internal const int PanelHeight = 380;

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
        int width = panels.Count * PanelWidth, height = PanelHeight;
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
            plot.Axes.Left.Label.Text = p == 0 ? lossLabel : string.Empty;
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
                int style = curves.IndexOf(group.Key);
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
            plot.Legend.IsVisible = true;
            plot.Legend.FontName = font;
            plot.Legend.FontSize = 12;
            plot.Legend.Alignment = Alignment.UpperLeft;
            using var cell = SKSurface.Create(new SKImageInfo(PanelWidth, PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
            plot.Render(cell.Canvas, PanelWidth, PanelHeight);
            using var image = cell.Snapshot();
            surface.Canvas.DrawImage(image, p * PanelWidth, 0);
        }

        using var snapshot = surface.Snapshot();
        Write(snapshot, pngPath);
    }

    /// <summary>
    /// The x ticks: every rate tried, as a number, when there are at most 8; otherwise (a fine grid, such as half
    /// octaves) only the whole powers of two among them, written 2^k, so the labels do not overlap.
    /// </summary>
    internal static Tick[] Ticks(IReadOnlyList<double> rates)
    {
        if (rates.Count <= 8)
        {
            return rates.Select(r => new Tick(Math.Log2(r), r.ToString("G3", CultureInfo.InvariantCulture))).ToArray();
        }

        double lo = Math.Ceiling(Math.Log2(rates[0]) - 1e-9), hi = Math.Floor(Math.Log2(rates[^1]) + 1e-9);
        int step = hi - lo > 8 ? 2 : 1;
        return Enumerable.Range(0, (int)(hi - lo) + 1).Where(k => k % step == 0)
            .Select(k => new Tick(lo + k, string.Create(CultureInfo.InvariantCulture, $"2^{lo + k:0}"))).ToArray();
    }

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
