using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace CompleteP.Plotting.Internal;

/// <summary>One line of a panel, in data units (both axes are drawn logarithmic).</summary>
/// <param name="Label">The legend text.</param>
/// <param name="Style">The color and marker index.</param>
/// <param name="X">Sizes (widths or depths), drawn on a log2 axis.</param>
/// <param name="Y">Positive values, drawn on a log10 axis.</param>
/// <param name="Reference">A light dashed guide line without markers.</param>
internal sealed record Series(string Label, int Style, double[] X, double[] Y, bool Reference = false);

/// <summary>One panel of a figure.</summary>
internal sealed record PanelSpec(string Title, IReadOnlyList<Series> Series);

/// <summary>A grid of panels.</summary>
/// <param name="Rows">Rows of panels.</param>
/// <param name="Columns">Columns of panels.</param>
/// <param name="PanelWidth">Pixels per panel, across.</param>
/// <param name="PanelHeight">Pixels per panel, down.</param>
/// <param name="Panels">The panels, row by row.</param>
/// <param name="XLabel">The x axis label (drawn on the bottom row).</param>
/// <param name="YLabel">The y axis label (drawn on the left column).</param>
/// <param name="Sizes">Every size on the x axis (for its ticks and limits).</param>
/// <param name="Legend">Where the legend goes.</param>
/// <param name="LegendFontSize">The legend's font size.</param>
internal sealed record FigureSpec(
    int Rows,
    int Columns,
    int PanelWidth,
    int PanelHeight,
    IReadOnlyList<PanelSpec> Panels,
    string XLabel,
    string YLabel,
    IReadOnlyList<int> Sizes,
    LegendPlacement Legend,
    float LegendFontSize)
{
    /// <summary>The image's width: the panels', and the legend column's if any.</summary>
    public int Width => (Columns * PanelWidth) + (Legend == LegendPlacement.Column ? FigureRenderer.LegendColumnWidth : 0);

    /// <summary>The image's height.</summary>
    public int Height => Rows * PanelHeight;
}

/// <summary>Where a figure's legend goes.</summary>
internal enum LegendPlacement
{
    /// <summary>Inside each panel, in the corner that hides the fewest points.</summary>
    EveryPanel,

    /// <summary>Once, in a column to the right of the panels (for many lines).</summary>
    Column,
}

/// <summary>Draws a <see cref="FigureSpec"/> with ScottPlot, one <see cref="Plot"/> per panel on one Skia canvas.</summary>
internal static class FigureRenderer
{
    /// <summary>Pixels across the legend column.</summary>
    public const int LegendColumnWidth = 230;

    private const float PadLeft = 66, PadRight = 14, PadBottom = 46, PadTop = 38;

    /// <summary>The dashes of reference lines: short enough to read as dashed in a legend symbol.</summary>
    private static LinePattern GuideDashes => new([6f, 4f], 0, "guide");

    /// <summary>Renders the figure and writes it as a PNG (creating the folder if needed).</summary>
    public static void SavePng(FigureSpec spec, string path)
    {
        int width = spec.Width, height = spec.Height;
        string font = Theme.FontName();
        double xLo = Math.Log2(spec.Sizes.Min()) - 0.35, xHi = Math.Log2(spec.Sizes.Max()) + 0.35;
        var xTicks = LogTicks.Log2(spec.Sizes.ToList());

        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);

        for (int row = 0; row < spec.Rows; row++)
        {
            // Each row (one parameterization) shares its y range, so steps compare at a glance.
            var rowPanels = spec.Panels.Skip(row * spec.Columns).Take(spec.Columns).ToList();
            var (yLo, yHi) = YRange(rowPanels.SelectMany(p => p.Series).SelectMany(s => s.Y));
            if (spec.Legend == LegendPlacement.EveryPanel)
            {
                // Where a legend would hide points in every corner, raise the top so it fits above the data.
                var drawn = rowPanels.Where(p => p.Series.Any(s => s.Y.Length > 0)).ToList();
                if (drawn.Any(p => LegendCorner(spec, p, (xLo, xHi), (yLo, yHi)).Hits > 0))
                {
                    double box = Math.Min(0.6, drawn.Max(p => LegendBox(spec, p).Height) + 0.03);
                    yHi = yLo + ((yHi - yLo) / (1 - box));
                }
            }

            var yTicks = LogTicks.Log10(yLo, yHi);
            for (int col = 0; col < rowPanels.Count; col++)
            {
                var panel = rowPanels[col];
                bool legend = spec.Legend == LegendPlacement.EveryPanel;
                using var plot = Panel(spec, panel, font, row, col, (xLo, xHi), (yLo, yHi), xTicks, yTicks, legend);

                // ScottPlot clears the canvas it renders on, so each panel gets its own surface.
                using var cell = SKSurface.Create(new SKImageInfo(spec.PanelWidth, spec.PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul))
                    ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
                plot.Render(cell.Canvas, spec.PanelWidth, spec.PanelHeight);
                using var picture = cell.Snapshot();
                canvas.DrawImage(picture, col * spec.PanelWidth, row * spec.PanelHeight);
            }
        }

        if (spec.Legend == LegendPlacement.Column)
        {
            var items = spec.Panels.SelectMany(p => p.Series).GroupBy(s => (s.Label, s.Style, s.Reference)).Select(g => g.First()).ToList();
            using var legend = LegendColumn(spec, items, font);
            using var cell = SKSurface.Create(new SKImageInfo(LegendColumnWidth, height, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
            legend.Render(cell.Canvas, LegendColumnWidth, height);
            using var picture = cell.Snapshot();
            canvas.DrawImage(picture, spec.Columns * spec.PanelWidth, 0);
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the figure as PNG.");
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static Plot Panel(FigureSpec spec, PanelSpec panel, string font, int row, int col,
        (double Lo, double Hi) x, (double Lo, double Hi) y, Tick[] xTicks, Tick[] yTicks, bool legend)
    {
        var plot = new Plot();
        plot.FigureBackground.Color = Theme.Background;
        plot.DataBackground.Color = Theme.Background;
        plot.Font.Set(font);
        plot.Layout.Fixed(new PixelPadding(PadLeft, PadRight, PadBottom, PadTop));

        plot.Axes.Title.Label.Text = panel.Title;
        plot.Axes.Title.Label.FontSize = 13;
        plot.Axes.Title.Label.Bold = true;
        plot.Axes.Title.Label.ForeColor = Theme.Ink;

        plot.Axes.Bottom.Label.Text = row == spec.Rows - 1 ? spec.XLabel : string.Empty;
        plot.Axes.Left.Label.Text = col == 0 ? spec.YLabel : string.Empty;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = 13;
            axis.Label.Bold = false;
            axis.Label.ForeColor = Theme.Ink;
            axis.TickLabelStyle.FontSize = 12;
            axis.TickLabelStyle.ForeColor = Theme.Ink;
            axis.FrameLineStyle.Color = Theme.Ink;
            axis.MajorTickStyle.Color = Theme.Ink;
            axis.MinorTickStyle.Color = Theme.Ink;
        }

        plot.Axes.Bottom.TickGenerator = new NumericManual(xTicks);
        plot.Axes.Left.TickGenerator = new NumericManual(yTicks);
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.13);
        plot.Grid.MajorLineWidth = 1;
        plot.Grid.MinorLineColor = Colors.Black.WithAlpha(0.05);
        plot.Grid.MinorLineWidth = 1;

        foreach (var series in panel.Series)
        {
            var color = Theme.ColorOf(series.Style);
            var scatter = plot.Add.Scatter(series.X.Select(Math.Log2).ToArray(), series.Y.Select(Math.Log10).ToArray(), color);
            scatter.LegendText = series.Label;
            if (series.Reference)
            {
                scatter.Color = color.WithAlpha(0.6);
                scatter.LineWidth = 1.4f;
                scatter.LinePattern = GuideDashes;
                scatter.MarkerSize = 0;
                scatter.MarkerShape = MarkerShape.None;
            }
            else
            {
                scatter.LineWidth = 1.8f;
                scatter.MarkerShape = Theme.MarkerOf(series.Style);
                scatter.MarkerSize = 7;
                scatter.MarkerLineWidth = 1.3f;
            }
        }

        if (panel.Series.All(s => s.Y.Length == 0))
        {
            var note = plot.Add.Annotation("no positive values to draw", Alignment.MiddleCenter);
            note.LabelFontSize = 12;
            note.LabelFontColor = Colors.Gray;
            note.LabelBackgroundColor = Colors.Transparent;
            note.LabelBorderWidth = 0;
            note.LabelShadowColor = Colors.Transparent;
        }

        plot.Axes.SetLimits(x.Lo, x.Hi, y.Lo, y.Hi);

        if (legend && panel.Series.Any(s => s.Y.Length > 0))
        {
            StyleLegend(plot.Legend, font, spec.LegendFontSize);
            plot.Legend.Alignment = LegendCorner(spec, panel, x, y).Corner;
        }
        else
        {
            plot.Legend.IsVisible = false;
        }

        return plot;
    }

    /// <summary>The legend column of the series: one entry per line, long names shortened to the column.</summary>
    private static Plot LegendColumn(FigureSpec spec, IReadOnlyList<Series> items, string font)
    {
        int maxChars = (int)((LegendColumnWidth - 60) / (spec.LegendFontSize * 0.6));
        return LegendOnly(items.Select(s =>
        {
            var color = Theme.ColorOf(s.Style);
            return new LegendItem
            {
                LabelText = Shorten(s.Label, maxChars),
                LineColor = s.Reference ? color.WithAlpha(0.6) : color,
                LineWidth = s.Reference ? 1.4f : 1.8f,
                LinePattern = s.Reference ? GuideDashes : LinePattern.Solid,
                MarkerShape = s.Reference ? MarkerShape.None : Theme.MarkerOf(s.Style),
                MarkerSize = s.Reference ? 0 : 7,
                MarkerFillColor = color,
                MarkerLineColor = color,
                MarkerLineWidth = 1.3f,
            };
        }), font, spec.LegendFontSize);
    }

    /// <summary>
    /// A frameless plot holding only a legend, one entry per line, top-aligned with the panels' data: the legend column of a
    /// figure, and of a learning-rate sweep whose named series span several panels.
    /// </summary>
    internal static Plot LegendOnly(IEnumerable<LegendItem> items, string font, float fontSize)
    {
        var plot = new Plot();
        plot.FigureBackground.Color = Theme.Background;
        plot.DataBackground.Color = Theme.Background;
        plot.Font.Set(font);
        plot.HideAxesAndGrid();
        plot.Layout.Fixed(new PixelPadding(0, 8, 8, PadTop));
        plot.Legend.ManualItems.AddRange(items);
        StyleLegend(plot.Legend, font, fontSize);
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.Legend.OutlineColor = Colors.Transparent;
        return plot;
    }

    private static void StyleLegend(Legend legend, string font, float fontSize)
    {
        legend.IsVisible = true;
        legend.FontName = font;
        legend.FontSize = fontSize;
        legend.FontColor = Theme.Ink;
        legend.BackgroundColor = Colors.White.WithAlpha(0.85);
        legend.OutlineColor = Colors.Black.WithAlpha(0.25);
        legend.ShadowColor = Colors.Transparent;
        legend.SymbolWidth = 22;
    }

    /// <summary>Long names lose their middle: <c>transformer.h.last.mlp.c_proj</c> → <c>transform…mlp.c_proj</c> at 20.</summary>
    internal static string Shorten(string label, int maxChars)
    {
        if (label.Length <= maxChars || maxChars < 8)
        {
            return label;
        }

        int head = (maxChars - 1) / 2, tail = maxChars - 1 - head;
        return string.Concat(label.AsSpan(0, head), "…", label.AsSpan(label.Length - tail));
    }

    /// <summary>
    /// The y range in log10 units: the data's, padded by 6% each side, at least one decade wide (so that
    /// flat lines look flat), or [-1, 1] without data.
    /// </summary>
    internal static (double Lo, double Hi) YRange(IEnumerable<double> values)
    {
        var logs = values.Where(v => double.IsFinite(v) && v > 0).Select(Math.Log10).ToList();
        if (logs.Count == 0)
        {
            return (-1, 1);
        }

        double lo = logs.Min(), hi = logs.Max();
        double pad = Math.Max(0.06 * (hi - lo), 0.05);
        lo -= pad;
        hi += pad;
        if (hi - lo < 1)
        {
            double mid = (lo + hi) / 2;
            lo = mid - 0.5;
            hi = mid + 0.5;
        }

        return (lo, hi);
    }

    /// <summary>The size of a panel's legend as fractions of its data area (an estimate from the font size).</summary>
    private static (double Width, double Height) LegendBox(FigureSpec spec, PanelSpec panel)
    {
        var items = panel.Series.Where(s => s.Y.Length > 0).ToList();
        double dataWidth = spec.PanelWidth - PadLeft - PadRight, dataHeight = spec.PanelHeight - PadTop - PadBottom;
        double width = (30 + 16 + (items.Max(s => s.Label.Length) * spec.LegendFontSize * 0.6)) / dataWidth;
        double height = (12 + (items.Count * ((spec.LegendFontSize * 1.45) + 3))) / dataHeight;
        return (width, height);
    }

    /// <summary>The data corner where the legend covers the fewest line points, and how many it covers.</summary>
    private static (Alignment Corner, int Hits) LegendCorner(FigureSpec spec, PanelSpec panel, (double Lo, double Hi) x, (double Lo, double Hi) y)
    {
        var (boxWidth, boxHeight) = LegendBox(spec, panel);
        var samples = new List<(double U, double V)>();
        foreach (var s in panel.Series.Where(s => s.Y.Length > 0))
        {
            var u = s.X.Select(v => (Math.Log2(v) - x.Lo) / (x.Hi - x.Lo)).ToArray();
            var w = s.Y.Select(v => (Math.Log10(v) - y.Lo) / (y.Hi - y.Lo)).ToArray();
            for (int i = 0; i < u.Length; i++)
            {
                samples.Add((u[i], w[i]));
                if (i + 1 < u.Length)
                {
                    for (int k = 1; k < 24; k++)
                    {
                        double t = k / 24.0;
                        samples.Add((u[i] + (t * (u[i + 1] - u[i])), w[i] + (t * (w[i + 1] - w[i]))));
                    }
                }
            }
        }

        (Alignment Corner, bool Left, bool Top)[] corners =
        [
            (Alignment.UpperLeft, true, true), (Alignment.UpperRight, false, true),
            (Alignment.LowerLeft, true, false), (Alignment.LowerRight, false, false),
        ];
        var best = corners
            .Select((c, i) => (c.Corner, Order: i, Hits: samples.Count(p =>
                (c.Left ? p.U <= boxWidth : p.U >= 1 - boxWidth) && (c.Top ? p.V >= 1 - boxHeight : p.V <= boxHeight))))
            .OrderBy(c => c.Hits)
            .ThenBy(c => c.Order)
            .First();
        return (best.Corner, best.Hits);
    }
}
