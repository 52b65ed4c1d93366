using CompleteP.CoordinateChecks;
using FluentAssertions;
using NanoGpt;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;


/// <summary>
/// The toolkit has teeth: SP fails the width check where muP passes; SP and muP fail the depth
/// check where CompleteP and alpha = 0.5 pass; the laziness slope is about alpha - 1.
/// Small shapes on the nanoGPT model and tiny Shakespeare, one fixed batch.
/// </summary>
public class CoordinateCheckTests : IClassFixture<CoordinateCheckTests.Data>
{
    private readonly Data _data;
    private readonly ITestOutputHelper _output;

    public CoordinateCheckTests(Data data, ITestOutputHelper output)
    {
        _data = data;
        _output = output;
    }

    /// <summary>The corpus and one fixed batch, shared by the tests of this class.</summary>
    public sealed class Data : IDisposable
    {
        public Data()
        {
            using var corpus = TinyShakespeare.Load();
            (X, Y) = corpus.GetBatch(DataSplit.Train, batchSize: 4, blockSize: 32, seed: 0);
        }

        public Tensor X { get; }

        public Tensor Y { get; }

        public void Dispose()
        {
            X.Dispose();
            Y.Dispose();
        }
    }

    private CoordinateCheckResult Run(CoordinateCheckSettings settings, bool laziness = false)
    {
        var (x, y) = (_data.X, _data.Y);
        nn.Module<Tensor, Tensor> Factory(int width, int depth) => new Gpt(new GptConfig(65, 32, depth, width, settings.HeadDim));
        (Tensor, Tensor) Batches(int step, int seed) => (x, y);
        static Tensor Loss(Tensor logits, Tensor target) => nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), target.view(-1));
        var result = CoordinateCheck.Run(Factory, Batches, Loss, settings);
        if (laziness)
        {
            result = result with { Laziness = CoordinateCheck.Laziness(Factory, Batches, Loss, settings) };
        }

        _output.WriteLine(result.Report().Summary());

        return result;
    }

    [Fact]
    public void SP_fails_the_width_check_where_muP_and_CompleteP_pass()
    {
        var result = Run(new CoordinateCheckSettings
        {
            Parameterizations = [Parameterization.Standard, Parameterization.MuP, Parameterization.CompleteP],
            BaseShape = new ModelShape(32, 2),
            HeadDim = 16,
            Widths = [32, 64, 128, 256],
            Steps = 5,
            Hyperparameters = new BaseHyperparameters(2e-3, 0.02),
        });
        var report = result.Report();

        report.Should().NotBeStableAcrossWidth("sp");
        report.Should().BeStableAcrossWidth("mup").And.BeStableAcrossWidth("completep");
        var act = () => report.Should().BeStableAcrossWidth("sp");
        act.Should().Throw<CoordinateCheckFailedException>().WithMessage("*sp*module*step*slope*expected 0.00*");
    }

    [Fact]
    public void SP_and_muP_fail_the_depth_check_where_CompleteP_and_depth_muP_pass_and_laziness_follows_alpha()
    {
        var result = Run(new CoordinateCheckSettings
        {
            Parameterizations = [Parameterization.Standard, Parameterization.MuP, Parameterization.CompleteP, Parameterization.DepthMuP],
            BaseShape = new ModelShape(32, 2),
            HeadDim = 16,
            Depths = [2, 4, 8, 16],
            Steps = 5,
            Hyperparameters = new BaseHyperparameters(2e-3, 0.02),
        }, laziness: true);
        var report = result.Report();

        report.Should().NotBeStableAcrossDepth("sp").And.NotBeStableAcrossDepth("mup");
        report.Should().BeStableAcrossDepth("completep").And.BeStableAcrossDepth("depth-mup");
        report.DepthVerdicts.Single(v => v.Parameterization == "mup" && v.Module == "transformer.h.last" && v.Step == 4).Slope.Should().BeGreaterThan(0.4);
        report.Should().HaveLazinessAsPredicted("completep").And.HaveLazinessAsPredicted("depth-mup");
        report.LazinessVerdicts.Single(v => v.Parameterization == "completep").Slope.Should().BeInRange(-0.2, 0.2);
        report.LazinessVerdicts.Single(v => v.Parameterization == "depth-mup").Slope.Should().BeInRange(-0.7, -0.3);
    }

    [Fact]
    public void Measurements_have_the_documented_columns_and_round_trip_through_csv()
    {
        var result = Run(new CoordinateCheckSettings
        {
            Parameterizations = [Parameterization.CompleteP],
            BaseShape = new ModelShape(32, 2),
            HeadDim = 16,
            Widths = [32, 64],
            Steps = 2,
            RunControls = false,
        });

        result.Measurements.Select(m => m.Module).Distinct().Should().Contain(["transformer.wte", "transformer.h.1", "transformer.h.1.attn", "transformer.ln_f", "lm_head"]);
        result.Measurements.Where(m => m.Step == 1).Should().OnlyContain(m => m.DeltaRms == 0);
        // At width 64 ln_f carries the tied head's folded logit multiplier 1/m_N = 1/2; it is reported unfolded, as Table 1's
        // final norm (a LayerNorm with gain 1 and shift 0 at step 1: RMS 1 at both widths, not 1/2 at the wider one).
        var finalNorm = result.Measurements.Where(m => m.Module == "transformer.ln_f" && m.Step == 1).ToList();
        finalNorm.Select(m => m.Width).Distinct().Should().BeEquivalentTo([32, 64]);
        finalNorm.Should().OnlyContain(m => Math.Abs(m.Rms - 1) < 0.01);
        result.Measurements.Where(m => m.Step == 2).Should().OnlyContain(m => m.DeltaRms > 0);
        result.Measurements.Single(m => m.Width == 64 && m.Step == 1 && m.Module == "transformer.h.1").Kind.Should().Be(ModuleKind.Block);
        result.ToCsv().Split('\n')[0].Should().StartWith("parameterization,width,depth,seed,step,module,meanAbs,rms,deltaRms");
        CoordinateCheckResult.ParseCsv(result.ToCsv()).Should().BeEquivalentTo(result.Measurements);
    }

    [Fact]
    public void A_depth_check_at_weak_settings_is_inconclusive_because_its_control_passes_too()
    {
        // One step (the forward before any update) and a small init std: the blocks add almost nothing to the residual
        // stream yet, so muP, which must fail across depth, passes too, and CompleteP's pass proves nothing.
        var weak = new CoordinateCheckSettings
        {
            Parameterizations = [Parameterization.CompleteP],
            BaseShape = new ModelShape(32, 2),
            HeadDim = 16,
            Depths = [2, 4, 8],
            Steps = 1,
            Hyperparameters = new BaseHyperparameters(2e-3, 0.005),
        };
        weak.ParameterizationsToRun().Should().Equal(Parameterization.CompleteP, Parameterization.MuP);
        var report = Run(weak).Report();

        report.DepthVerdicts.Select(v => v.Parameterization).Distinct().Should().BeEquivalentTo(["completep", "mup"], "the control runs by default");
        report.DepthVerdicts.Should().OnlyContain(v => v.Passed);
        report.IsInconclusive(SweepAxis.Depth).Should().BeTrue();
        report.Summary().Should().Contain("| completep | depth | inconclusive: the control passed too, so these settings cannot tell |")
            .And.Contain("| mup | depth | stable, but it is the control and must fail |");
        var act = () => report.Should().BeStableAcrossDepth("completep");
        act.Should().Throw<CoordinateCheckFailedException>().WithMessage("*inconclusive: the control passed too, so these settings cannot tell*control mup*");

        // Without the control the same settings pass: the check cannot know it proved nothing.
        var alone = Run(weak with { RunControls = false }).Report();
        alone.DepthVerdicts.Select(v => v.Parameterization).Distinct().Should().Equal("completep");
        alone.IsInconclusive(SweepAxis.Depth).Should().BeFalse();
        alone.Should().BeStableAcrossDepth("completep");
    }

    [Fact]
    public void Controls_are_added_only_for_the_sweeps_that_run_and_only_once()
    {
        new CoordinateCheckSettings { Parameterizations = [Parameterization.CompleteP], Widths = [32, 64] }.ParameterizationsToRun()
            .Should().Equal(Parameterization.CompleteP, Parameterization.Standard);
        new CoordinateCheckSettings { Parameterizations = [Parameterization.CompleteP], Widths = [32, 64], Depths = [2, 4] }.ParameterizationsToRun()
            .Should().Equal(Parameterization.CompleteP, Parameterization.Standard, Parameterization.MuP);
        new CoordinateCheckSettings { Parameterizations = [Parameterization.MuP, Parameterization.CompleteP], Depths = [2, 4] }.ParameterizationsToRun()
            .Should().Equal(Parameterization.MuP, Parameterization.CompleteP);
        new CoordinateCheckSettings { Parameterizations = [Parameterization.CompleteP], Widths = [32] }.ParameterizationsToRun()
            .Should().Equal(Parameterization.CompleteP);
        CoordinateCheckReport.ControlFor(SweepAxis.Width).Should().Be(Parameterization.Standard);
        CoordinateCheckReport.ControlFor(SweepAxis.Depth).Should().Be(Parameterization.MuP);
    }
}
