using CompleteP.Plotting;
using CompleteP.CoordinateChecks;
using FluentAssertions;

namespace CompleteP.Tests.Plotting;

public sealed class CoordinateCheckPlotsTests : IDisposable
{
    private const int W = CoordinateCheckPlots.PanelWidth;
    private const int H = CoordinateCheckPlots.PanelHeight;
    private const int L = CoordinateCheckPlots.LegendColumnWidth;

    private static readonly List<CoordinateMeasurement> Data = Synthetic.Coordinates();
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Width_sweep_has_a_row_per_parameterization_and_a_column_per_default_step()
    {
        string path = temp.File("width.png");

        CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.Rms, path);

        // sp and completep; steps 1, 4, 7, 10 of 10; 12 modules, so a legend column.
        Png.Header(path).Should().Be(((4 * W) + L, 2 * H));
        var (width, height, inked, colored) = Png.Decode(path);
        (width, height).Should().Be(((4 * W) + L, 2 * H));
        inked.Should().BeGreaterThan(width * height / 4 / 50, "frames, grid lines, text and lines are drawn");
        colored.Should().BeGreaterThan(200, "the module lines are drawn in color");
        Png.ColoredPerPanel(path, 2, 4, L).Should().OnlyContain(n => n > 500, "every panel has its lines");
    }

    [Fact]
    public void Depth_sweep_renders_at_the_sweep_width()
    {
        string path = temp.File("depth.png");

        CoordinateCheckPlots.DepthSweep(Data, CoordinateMetric.Rms, path);

        Png.Header(path).Should().Be(((4 * W) + L, 2 * H));
        Png.ColoredPerPanel(path, 2, 4, L).Should().OnlyContain(n => n > 300, "every panel has its lines");
    }

    [Fact]
    public void Steps_choose_the_columns()
    {
        string path = temp.File("steps.png");

        CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.MeanAbs, path, steps: [1, 10]);

        Png.Header(path).Should().Be(((2 * W) + L, 2 * H));
    }

    [Fact]
    public void Delta_rms_leaves_out_step_1_by_default()
    {
        var data = Synthetic.Coordinates(["completep"], steps: 3);
        string rms = temp.File("rms.png"), delta = temp.File("delta.png");

        CoordinateCheckPlots.WidthSweep(data, CoordinateMetric.Rms, rms);
        CoordinateCheckPlots.WidthSweep(data, CoordinateMetric.DeltaRms, delta);

        Png.Header(rms).Should().Be(((3 * W) + L, H));
        Png.Header(delta).Should().Be(((2 * W) + L, H));
    }

    [Fact]
    public void A_panel_without_positive_values_still_renders()
    {
        string path = temp.File("zero.png");

        CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.DeltaRms, path, steps: [1]);

        Png.Header(path).Should().Be((W + L, 2 * H));
    }

    [Fact]
    public void Module_filter_limits_the_lines()
    {
        string path = temp.File("filtered.png");

        CoordinateCheckPlots.DepthSweep(Data, CoordinateMetric.Rms, path, moduleFilter: m => m.EndsWith(".last", StringComparison.Ordinal) || m == "lm_head");

        // Two modules: a legend in each panel, no legend column.
        Png.Header(path).Should().Be((4 * W, 2 * H));
        Png.ColoredPerPanel(path, 2, 4, 0).Should().OnlyContain(n => n > 100);
    }

    [Fact]
    public void Rows_without_kind_and_block_index_are_parsed_from_names()
    {
        var data = Synthetic.Coordinates(["mup"], steps: 2, withKinds: false);
        string path = temp.File("parsed.png");

        CoordinateCheckPlots.DepthSweep(data, CoordinateMetric.Rms, path);

        Png.Header(path).Should().Be(((2 * W) + L, H));
    }

    [Fact]
    public void Laziness_renders_one_panel()
    {
        string path = temp.File("laziness.png");

        CoordinateCheckPlots.Laziness(Synthetic.Laziness(), path);

        Png.Header(path).Should().Be((CoordinateCheckPlots.LazinessWidth, CoordinateCheckPlots.LazinessHeight));
        Png.Decode(path).Colored.Should().BeGreaterThan(100);
    }

    [Fact]
    public void All_writes_every_figure_the_data_allows()
    {
        string folder = Path.Combine(temp.Path, "nested", "out");

        var written = CoordinateCheckPlots.All(Data, Synthetic.Laziness(), folder);

        written.Select(Path.GetFileName).Should().Equal("widthsweep.png", "depthsweep.png", "laziness.png");
        written.Should().OnlyContain(p => File.Exists(p) && Path.IsPathFullyQualified(p));
        Png.Header(written[2]).Should().Be((CoordinateCheckPlots.LazinessWidth, CoordinateCheckPlots.LazinessHeight));

        // COMPLETEP_PLOT_EXAMPLES=/some/folder keeps a copy to look at.
        if (Environment.GetEnvironmentVariable("COMPLETEP_PLOT_EXAMPLES") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var file in written)
            {
                File.Copy(file, Path.Combine(keep, Path.GetFileName(file)), overwrite: true);
            }
        }
    }

    [Fact]
    public void All_skips_a_sweep_the_data_does_not_have()
    {
        var widthOnly = Data.Where(r => r.Depth == Synthetic.BaseDepth).ToList();

        var written = CoordinateCheckPlots.All(widthOnly, laziness: null, temp.Path);

        written.Select(Path.GetFileName).Should().Equal("widthsweep.png");
    }

    [Fact]
    public void Widths_that_are_not_powers_of_two_are_labeled_as_they_are()
    {
        var data = new[] { 96, 160, 320 }
            .SelectMany(w => new[] { 1, 2 }.Select(step => new CoordinateMeasurement("sp", w, 3, 0, step, "lm_head", 1, Math.Sqrt(w) * step, 0)))
            .ToList();
        string path = temp.File("odd.png");

        CoordinateCheckPlots.WidthSweep(data, CoordinateMetric.Rms, path);

        Png.Header(path).Should().Be((2 * W, H));
    }

    [Fact]
    public void Empty_or_null_data_is_refused_naming_the_parameter()
    {
        string path = temp.File("x.png");

        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep([], CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.DepthSweep(null!, CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.Laziness([], path))
            .Should().Throw<ArgumentException>().WithMessage("*empty*").Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.All([], null, temp.Path))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("data");
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public void Other_bad_arguments_are_refused_naming_the_parameter()
    {
        string path = temp.File("x.png");

        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.Rms, " "))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("pngPath");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data, (CoordinateMetric)7, path))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("metric");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.Rms, path, steps: [11]))
            .Should().Throw<ArgumentException>().WithMessage("*11*").Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.Rms, path, steps: []))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data, CoordinateMetric.Rms, path, moduleFilter: _ => false))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("moduleFilter");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep(Data.Where(r => r.Width == 128), CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentException>().WithMessage("*no width sweep*").Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.DepthSweep(Data.Where(r => r.Depth == 4), CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentException>().WithMessage("*no depth sweep*").Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep([Data[0], null!], CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentException>().WithMessage("*null*").Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.WidthSweep([Data[0] with { Width = 0 }, Data[1]], CoordinateMetric.Rms, path))
            .Should().Throw<ArgumentException>().WithMessage("*width or depth*").Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => CoordinateCheckPlots.All(Data, null, null!))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("folder");
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public void Laziness_without_a_usable_value_is_refused()
    {
        var zero = new[] { new LazinessMeasurement("completep", 64, 2, 0, "h.0", 0, 0, 0) };

        FluentActions.Invoking(() => CoordinateCheckPlots.Laziness(zero, temp.File("z.png")))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("data");
    }
}
