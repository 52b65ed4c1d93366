using CompleteP.Plotting;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Plotting;

public class LearningRateSweepPlotTests
{
    private static IEnumerable<LearningRatePoint> Sweep() =>
        from p in new[] { "mup", "completep" }
        from depth in new[] { 2, 8, 32 }
        from lr in new[] { 0.001, 0.002, 0.004, 0.008 }
        select new LearningRatePoint(p, 256, depth, lr, 2 + Math.Pow(Math.Log2(lr / (p == "mup" ? 0.008 / depth : 0.004)), 2) / 10);

    [Fact]
    public void A_sweep_renders_one_panel_per_parameterization()
    {
        using var folder = new TempFolder();
        string path = folder.File("sweep.png");
        LearningRateSweepPlot.Save(Sweep(), path);

        Png.Header(path).Should().Be((2 * LearningRateSweepPlot.PanelWidth, LearningRateSweepPlot.PanelHeight));
        var (_, _, inked, colored) = Png.Decode(path);
        inked.Should().BeGreaterThan(1000, "axes, ticks and labels are drawn");
        colored.Should().BeGreaterThan(500, "the lines are drawn in color");
    }

    [Fact]
    public void Seeds_are_drawn_as_their_mean_with_error_bars()
    {
        using var folder = new TempFolder();
        string single = folder.File("single.png"), seeds = folder.File("seeds.png");
        var means = new[] { (0.001, 2.0), (0.002, 3.0), (0.004, 3.5), (0.008, 4.5) }.Select(x => new LearningRatePoint("mup", 64, 2, x.Item1, x.Item2)).ToList();
        LearningRateSweepPlot.Save(means, single);
        // Three seeds at the two middle rates, spread by +-0.2 around the same means: the same line and axes, plus two error bars.
        LearningRateSweepPlot.Save(means.SelectMany(r => r.Loss is > 2 and < 4 ? new[] { r with { Loss = r.Loss - 0.2 }, r, r with { Loss = r.Loss + 0.2 } } : [r]), seeds);

        var (_, _, _, coloredSingle) = Png.Decode(single);
        var (_, _, _, coloredSeeds) = Png.Decode(seeds);
        coloredSeeds.Should().BeGreaterThan(coloredSingle + 20, "two points have vertical error bars");
    }

    [Fact]
    public void Named_series_at_one_model_size_are_separate_curves()
    {
        using var folder = new TempFolder();
        string merged = folder.File("merged.png"), split = folder.File("split.png");
        // Two batch sizes at the same width and depth with different losses: without series they are one curve of
        // seed means; with series, two curves in two colours.
        var points = (from batch in new[] { 8, 64 }
                      from lr in new[] { 0.001, 0.002, 0.004, 0.008 }
                      select new LearningRatePoint("completep", 64, 4, lr, 2 + (batch == 8 ? 0.5 : 0) + Math.Abs(Math.Log2(lr / 0.002)) / 10) { Series = $"batch {batch}" }).ToList();
        LearningRateSweepPlot.Save(points.Select(p => p with { Series = null }), merged);
        LearningRateSweepPlot.Save(points, split);

        Orange(merged).Should().BeLessThan(20, "one curve is drawn in the first colour (blue)");
        Orange(split).Should().BeGreaterThan(200, "the second series is a curve of its own, in the second colour (orange, #ff7f0e)");
    }

    /// <summary>The pixels close to the second curve colour, #ff7f0e (right of <paramref name="fromX"/>).</summary>
    private static int Orange(string path, int fromX = 0)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = fromX; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                count += Math.Abs(c.Red - 0xff) < 30 && Math.Abs(c.Green - 0x7f) < 30 && c.Blue < 50 ? 1 : 0;
            }
        }

        return count;
    }

    [Fact]
    public void A_fine_grid_is_labelled_at_whole_octaves_and_a_coarse_one_at_every_rate()
    {
        var halfOctaves = Enumerable.Range(0, 17).Select(k => Math.Pow(2, -12 + (k / 2.0))).ToList();
        var ticks = LearningRateSweepPlot.Ticks(halfOctaves);
        ticks.Select(t => t.Label).Should().Equal("2^-12", "2^-11", "2^-10", "2^-9", "2^-8", "2^-7", "2^-6", "2^-5", "2^-4");
        ticks.Select(t => t.Position).Should().Equal(Enumerable.Range(-12, 9).Select(k => (double)k));

        LearningRateSweepPlot.Ticks([0.001, 0.002, 0.004]).Select(t => t.Label).Should().Equal("0.001", "0.002", "0.004");

        // A few half octaves are each labelled as a power of two; more of them only at the whole powers.
        LearningRateSweepPlot.Ticks([Math.Pow(2, -9), Math.Pow(2, -8.5), Math.Pow(2, -8)]).Select(t => t.Label).Should().Equal("2^-9", "2^-8.5", "2^-8");
        LearningRateSweepPlot.Ticks(Enumerable.Range(0, 7).Select(k => Math.Pow(2, -10 + (k / 2.0))).ToList()).Select(t => t.Label)
            .Should().Equal("2^-10", "2^-9", "2^-8", "2^-7");
    }

    [Fact]
    public void Named_series_over_several_panels_share_one_legend_beside_rows_of_at_most_three_panels()
    {
        using var folder = new TempFolder();
        string path = folder.File("shared.png");
        // A per-module search over four model shapes: four panels, the series in the same colours in each.
        var points = (from shape in new[] { "64x2", "64x8", "128x2", "256x2" }
                      from hp in new[] { "no hp", "embedding.lr=4" }
                      from lr in new[] { 0.001, 0.002, 0.004 }
                      select new LearningRatePoint($"completep, {shape}", 64, 2, lr, 2 + (hp == "no hp" ? 0.1 : 0) + Math.Abs(Math.Log2(lr / 0.002)) / 10) { Series = hp }).ToList();

        LearningRateSweepPlot.Save(points, path);

        Png.Header(path).Should().Be((3 * LearningRateSweepPlot.PanelWidth + LearningRateSweepPlot.LegendWidth, 2 * LearningRateSweepPlot.PanelHeight));
        int legendOrange = Orange(path, fromX: 3 * LearningRateSweepPlot.PanelWidth);
        legendOrange.Should().BeGreaterThan(10, "the shared legend shows the second series' colour");
    }

    [Fact]
    public void An_empty_sweep_or_a_bad_learning_rate_is_refused()
    {
        using var folder = new TempFolder();
        ((Action)(() => LearningRateSweepPlot.Save([], folder.File("x.png")))).Should().Throw<ArgumentException>().WithParameterName("points");
        ((Action)(() => LearningRateSweepPlot.Save([new LearningRatePoint("mup", 64, 2, 0, 2.0)], folder.File("x.png"))))
            .Should().Throw<ArgumentException>().WithMessage("*learning rates greater than 0*");
    }
}
