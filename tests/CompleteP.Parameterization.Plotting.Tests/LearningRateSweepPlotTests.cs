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
    public void An_empty_sweep_or_a_bad_learning_rate_is_refused()
    {
        using var folder = new TempFolder();
        ((Action)(() => LearningRateSweepPlot.Save([], folder.File("x.png")))).Should().Throw<ArgumentException>().WithParameterName("points");
        ((Action)(() => LearningRateSweepPlot.Save([new LearningRatePoint("mup", 64, 2, 0, 2.0)], folder.File("x.png"))))
            .Should().Throw<ArgumentException>().WithMessage("*learning rates greater than 0*");
    }
}
