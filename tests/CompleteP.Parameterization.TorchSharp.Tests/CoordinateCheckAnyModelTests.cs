using CompleteP.CoordinateChecks;
using CompleteP.Tests.Adapter.Models;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Coordinate checks on models as their authors wrote them: blocks that take records, children called through
/// .forward. The check records what it can see (the residual stream at the final norm's input, branch output
/// Linears), and refuses, naming the modules, what it cannot: it never passes on what it did not measure.
/// </summary>
public class CoordinateCheckAnyModelTests
{
    private static readonly Tensor Ids = Tokens(2, 12, 40, 3).DetachFromDisposeScope();

    private static Tensor Loss(LlamaLike model, Tensor ids)
    {
        var logits = model.call(new LlamaLikeInput(ids)).Logits;
        return nn.functional.cross_entropy(logits.narrow(1, 0, 11).reshape(-1, 40), ids.narrow(1, 1, 11).reshape(-1));
    }

    private static CoordinateCheckSettings Settings(params Parameterization[] parameterizations) => new()
    {
        Parameterizations = parameterizations,
        BaseShape = new ModelShape(32, 2),
        HeadDim = 16,
        Steps = 4,
        Hyperparameters = new BaseHyperparameters(5e-3, 0.02),
    };

    [Fact]
    public void Records_the_residual_stream_where_blocks_take_records_and_the_depth_check_has_teeth()
    {
        var result = CoordinateCheck.Run((w, d) => new LlamaLike(40, w, d, calls: true), (_, _) => Ids, Loss,
            Settings(Parameterization.Standard, Parameterization.MuP, Parameterization.CompleteP) with { Depths = [2, 8] });

        result.Measurements.Select(m => (m.Module, m.Kind)).Distinct().Should().Contain([
            ("model.norm.input", ModuleKind.ResidualStream),
            ("model.layers.0.self_attn.o_proj", ModuleKind.BranchOutput),
            ("model.layers.0.mlp", ModuleKind.Branch),
            ("lm_head", ModuleKind.Readout),
        ]);
        result.Measurements.Should().NotContain(m => m.Kind == ModuleKind.Block, "the blocks take records: a hook cannot read their output");
        var report = result.Report();
        report.Should().BeStableAcrossDepth("completep").And.NotBeStableAcrossDepth("sp").And.NotBeStableAcrossDepth("mup");
        report.Failures(SweepAxis.Depth).Where(f => f.Parameterization == "mup").Should().Contain(f => f.Module == "model.norm.input");
    }

    [Fact]
    public void Refuses_a_model_that_calls_its_children_through_forward_naming_what_it_cannot_see()
    {
        var act = () => CoordinateCheck.Run((w, d) => new LlamaLike(40, w, d), (_, _) => Ids, Loss, Settings(Parameterization.CompleteP) with { Widths = [32, 64] });

        var e = act.Should().Throw<CoordinateCheckRefusedException>().Which;
        e.Modules.Should().Contain(["model.embed_tokens", "model.layers.0.mlp", "model.norm.input", "model.norm"]);
        e.Message.Should().Contain("invoked through .forward(x)");
    }

    [Fact]
    public void Refuses_rather_than_passes_when_the_readout_is_called_through_forward()
    {
        // A user's small GPT with its head called through .forward: with hooks the check would have measured
        // everything but the logits and passed. The multiplier is folded, so the logits are right; the check refuses.
        var act = () => CoordinateCheck.Run((w, d) => new ForwardHeadGpt(40, w, d), (_, _) => (Ids, Ids),
            (logits, target) => nn.functional.cross_entropy(logits.reshape(-1, 40), target.reshape(-1)),
            Settings(Parameterization.CompleteP) with { Widths = [32, 64] });

        act.Should().Throw<CoordinateCheckRefusedException>().Which.Modules.Should().Equal("head");
    }

    [Fact]
    public void The_laziness_check_refuses_branches_it_cannot_call_instead_of_a_lookup_error()
    {
        var act = () => CoordinateCheck.Laziness((w, d) => new ForwardHeadGpt(40, w, d), (_, _) => (Ids, Ids),
            (logits, target) => nn.functional.cross_entropy(logits.reshape(-1, 40), target.reshape(-1)),
            Settings(Parameterization.CompleteP) with { Depths = [2, 4] });

        act.Should().NotThrow<KeyNotFoundException>();
        act.Should().NotThrow("ForwardHeadGpt calls its blocks and branches through .call");
    }

    [Fact]
    public void The_laziness_check_refuses_a_model_whose_branches_take_records()
    {
        var act = () => CoordinateCheck.Laziness((w, d) => new LlamaLikeAsTensors(40, w, d), (_, _) => (Ids, Ids),
            (logits, target) => nn.functional.cross_entropy(logits.reshape(-1, 40), target.reshape(-1)),
            Settings(Parameterization.CompleteP) with { Depths = [2, 4] });

        act.Should().Throw<CoordinateCheckRefusedException>().Which.Message.Should().Contain("are not Tensor-to-Tensor modules, so they cannot be called alone");
    }

    [Fact]
    public void A_depth_sweep_that_recorded_no_residual_stream_fails_with_that_reason()
    {
        var rows = new[] { 2, 4 }.SelectMany(depth => new[]
        {
            new CoordinateMeasurement("completep", 32, depth, 0, 1, "embed", 1, 1, 0, ModuleKind.Input),
            new CoordinateMeasurement("completep", 32, depth, 0, 1, "head", 1, 1, 0, ModuleKind.Readout),
        });
        var report = CoordinateCheckReport.Analyze(rows, []);

        var act = () => report.Should().BeStableAcrossDepth("completep");
        act.Should().Throw<CoordinateCheckFailedException>().WithMessage("*no residual stream was recorded*");
    }
}

/// <summary>The LLaMA-style model behind a Tensor-to-Tensor root (token ids to logits), its branches still taking records.</summary>
public sealed class LlamaLikeAsTensors : nn.Module<Tensor, Tensor>
{
    private readonly LlamaLike inner;

    public LlamaLikeAsTensors(int vocab, int width, int depth) : base(nameof(LlamaLikeAsTensors))
    {
        inner = new LlamaLike(vocab, width, depth, calls: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => inner.call(new LlamaLikeInput(ids)).Logits;
}
