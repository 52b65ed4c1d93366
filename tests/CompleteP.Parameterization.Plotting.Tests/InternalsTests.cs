using CompleteP.Plotting;
using CompleteP.Plotting.Internal;
using CompleteP.CoordinateChecks;
using FluentAssertions;

namespace CompleteP.Tests.Plotting;

public sealed class InternalsTests
{
    private static CoordinateMeasurement Row(string module, int depth, string kind = "other", int block = -1) =>
        new("completep", 128, depth, 0, 1, module, 1, 1, 0, Enum.Parse<ModuleKind>(kind, ignoreCase: true), block);

    [Theory]
    [InlineData("transformer.h.11", 12, "transformer.h.last")]
    [InlineData("transformer.h.11.mlp.c_proj", 12, "transformer.h.last.mlp.c_proj")]
    [InlineData("layers.3", 4, "layers.last")]
    [InlineData("transformer.h.0.attn", 12, "transformer.h.0.attn")]
    [InlineData("transformer.wte", 12, "transformer.wte")]
    [InlineData("lm_head", 12, "lm_head")]
    public void Depth_sweep_names_map_the_last_block_to_last(string module, int depth, string expected)
    {
        ModuleNames.DepthSweepNames(Row(module, depth)).Should().Equal(expected);
    }

    [Fact]
    public void Depth_sweep_names_drop_inner_blocks_and_give_both_names_at_depth_1()
    {
        ModuleNames.DepthSweepNames(Row("transformer.h.5.mlp", 12)).Should().BeEmpty();
        ModuleNames.DepthSweepNames(Row("transformer.h.0", 1)).Should().Equal("transformer.h.0", "transformer.h.last");
    }

    [Fact]
    public void Measured_block_indices_win_over_parsing()
    {
        // An expert list inside a block: the block index (3), not the first number seen, is the block.
        ModuleNames.DepthSweepNames(Row("blocks.3.moe.experts.3", 4, "branch", 3)).Should().Equal("blocks.last.moe.experts.3");

        // A module outside the blocks whose name has a number stays as it is.
        ModuleNames.DepthSweepNames(Row("embed.0", 4, "input", -1)).Should().Equal("embed.0");

        // A block index that is no path segment.
        ModuleNames.DepthSweepNames(Row("block_3", 4, "block", 3)).Should().Equal("block_last");
    }

    [Fact]
    public void Representative_modules_keep_embeddings_readout_and_first_middle_last_blocks()
    {
        var rows = Synthetic.Modules(16).Select(m => Row(m.Module, 16, m.Kind, m.Block)).ToList();
        var (_, modules) = Sweeps.Points(rows, SweepAxis.Width, 16, CoordinateMetric.Rms);
        modules.Should().HaveCount(52);

        var shown = Sweeps.Representative(modules).Select(m => m.Name).ToList();

        shown.Should().HaveCount(Sweeps.MaxModules);
        shown.Should().Contain(["transformer.wte", "transformer.wpe", "lm_head", "transformer.ln_f", "transformer.h.0", "transformer.h.8", "transformer.h.15"]);
        shown.Select(n => modules.Single(m => m.Name == n).Order).Should().BeInAscendingOrder("lines keep the model's order");
    }

    [Fact]
    public void Default_steps_are_the_first_the_last_and_two_between()
    {
        Sweeps.DefaultSteps(Enumerable.Range(1, 10), CoordinateMetric.Rms).Should().Equal(1, 4, 7, 10);
        Sweeps.DefaultSteps([1, 2, 3], CoordinateMetric.Rms).Should().Equal(1, 2, 3);
        Sweeps.DefaultSteps([1, 2, 3], CoordinateMetric.DeltaRms).Should().Equal(2, 3);
        Sweeps.DefaultSteps(Enumerable.Range(1, 100), CoordinateMetric.DeltaRms).Should().Equal(2, 35, 67, 100);
    }

    [Fact]
    public void Fixed_size_is_the_most_common_among_those_that_vary()
    {
        var rows = Synthetic.Coordinates(["sp"], steps: 1, seeds: [0]);

        Sweeps.FixedSize(rows, SweepAxis.Width).Should().Be(Synthetic.BaseDepth);
        Sweeps.FixedSize(rows, SweepAxis.Depth).Should().Be(Synthetic.BaseWidth);
        Sweeps.FixedSize(rows.Where(r => r.Width == 64).ToList(), SweepAxis.Width).Should().BeNull();
    }

    [Fact]
    public void Log10_ticks_label_decades_with_superscripts()
    {
        var ticks = LogTicks.Log10(-3.2, 2.1);

        ticks.Where(t => t.IsMajor).Select(t => t.Label).Should().Equal("10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²");
        ticks.Count(t => !t.IsMajor).Should().BeGreaterThan(30, "2..9 of each decade are minor ticks");
    }

    [Fact]
    public void Log10_ticks_over_many_decades_label_every_few()
    {
        var labels = LogTicks.Log10(-6.2, 8.3).Where(t => t.IsMajor).Select(t => t.Label);

        labels.Should().Equal("10⁻⁶", "10⁻³", "10⁰", "10³", "10⁶");
    }

    [Fact]
    public void Long_legend_labels_lose_their_middle()
    {
        FigureRenderer.Shorten("transformer.h.last.mlp.c_proj", 20).Should().Be("transform…mlp.c_proj").And.HaveLength(20);
        FigureRenderer.Shorten("lm_head", 20).Should().Be("lm_head");
    }

    [Fact]
    public void Log10_ticks_over_a_narrow_range_label_1_2_5_multiples()
    {
        var labels = LogTicks.Log10(Math.Log10(0.15), Math.Log10(6)).Where(t => t.IsMajor).Select(t => t.Label);

        labels.Should().Equal("0.2", "0.5", "1", "2", "5");
    }

    [Fact]
    public void Log2_ticks_label_the_sizes()
    {
        LogTicks.Log2([64, 128, 256]).Select(t => t.Label).Should().Equal("64", "128", "256");
        LogTicks.Log2(Enumerable.Range(0, 12).Select(i => 1 << i).ToList()).Where(t => t.IsMajor).Should().HaveCountLessThanOrEqualTo(8);
    }

    [Fact]
    public void Y_range_is_at_least_a_decade()
    {
        var (lo, hi) = FigureRenderer.YRange([1.0, 1.01]);

        (hi - lo).Should().BeApproximately(1, 1e-9);
        lo.Should().BeLessThan(0);
        hi.Should().BeGreaterThan(Math.Log10(1.01));
    }
}
