using CompleteP.CoordinateChecks;
using FluentAssertions;
using NanoGpt;
using NanoGpt.Cli;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// NaN and infinity during training: the coordinate checks and the laziness check stop with a <see cref="NonFiniteValueException"/>,
/// the nanoGPT sample with its <see cref="TrainingDivergedException"/>, each naming the step and the module whose output first held
/// the value, instead of recording NaN or training on it.
/// </summary>
public class TrainingFaultTests
{
    private static readonly CoordinateCheckSettings Settings = new()
    {
        Parameterizations = [Parameterization.CompleteP],
        BaseShape = new ModelShape(16, 1),
        HeadDim = 8,
        Widths = [32],
        Steps = 5,
        Hyperparameters = new BaseHyperparameters(1e-3, 0.02),
    };

    private static (Tensor, Tensor) Batch(int step, int seed)
    {
        var ids = Tokens(2, 16, 65, seed);
        return (ids, ids);
    }

    private static Tensor Loss(Tensor logits, Tensor target) => nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), target.view(-1));

    /// <summary>A nanoGPT whose <paramref name="module"/> outputs NaN from its <paramref name="fromCall"/>-th call on.</summary>
    private static Gpt Poisoned(int width, int depth, string module, int fromCall)
    {
        var model = new Gpt(new GptConfig(65, 16, depth, width, 8));
        var target = (nn.Module<Tensor, Tensor>)model.named_modules().First(m => m.name == module).module;
        int calls = 0;
        // Training calls only: Apply's branch-output probe calls the block in eval mode before training starts.
        target.register_forward_hook((m, _, output) => m.training && ++calls >= fromCall ? output * double.NaN : output);
        return model;
    }

    [Fact]
    public void The_coordinate_check_stops_at_the_step_and_module_where_nan_appears()
    {
        var act = () => CoordinateCheck.Run((w, d) => Poisoned(w, d, "transformer.h.0.mlp.c_fc", fromCall: 3), Batch, Loss, Settings);

        var e = act.Should().Throw<NonFiniteValueException>().Which;
        e.Step.Should().Be(3);
        e.ModuleName.Should().Be("transformer.h.0.mlp.c_fc", "the innermost module whose output first held NaN");
        e.Quantity.Should().Be("activation", "a recorded module's output held it before the loss did");
        e.Message.Should().Contain("coordinate check (completep, width 32, depth 1, seed 0)").And.Contain("at step 3")
            .And.Contain("the output of 'transformer.h.0.mlp.c_fc'");
    }

    [Fact]
    public void A_learning_rate_that_blows_up_stops_the_coordinate_check_and_the_laziness_check()
    {
        var settings = Settings with { Hyperparameters = new BaseHyperparameters(1e30, 0.02), Depths = [1, 2] };
        var run = () => CoordinateCheck.Run((w, d) => new Gpt(new GptConfig(65, 16, d, w, 8)), Batch, Loss, settings with { Depths = [] });
        var e = run.Should().Throw<NonFiniteValueException>().Which;
        e.Step.Should().BeGreaterThan(1, "step 1's forward is before any update");
        e.ModuleName.Should().NotBeNull().And.StartWith("transformer.", "a module of the model");

        // The laziness check trains one step in float64, which 1e30 does not overflow: it needs 1e300 to go to infinity.
        var lazy = () => CoordinateCheck.Laziness((w, d) => new Gpt(new GptConfig(65, 16, d, w, 8)), Batch, Loss,
            settings with { Hyperparameters = new BaseHyperparameters(1e300, 1e100), SweepWidth = 32 });
        lazy.Should().Throw<NonFiniteValueException>().Which.Message.Should().Contain("laziness check");
    }

    [Fact]
    public void The_locator_names_the_first_module_or_the_parameter_that_holds_nan()
    {
        using var model = new Gpt(new GptConfig(65, 16, 2, 32, 8));
        var ids = Tokens(2, 16, 65, 1);
        NonFiniteValues.Locate(model, () => model.call(ids)).Should().BeNull("a fresh model is finite");

        using (no_grad())
        {
            model.get_parameter("transformer.h.1.attn.c_proj.weight")![0, 0] = double.PositiveInfinity;
        }

        NonFiniteValues.Locate(model, () => model.call(ids)).Should().Be("transformer.h.1.attn.c_proj", "the first output that holds it; the NaN it causes downstream comes later");
        NonFiniteValues.Locate(model, () => { }).Should().Be("parameter 'transformer.h.1.attn.c_proj.weight'", "without a forward pass, the parameter is named");
    }

    [Fact]
    public void The_sample_stops_training_at_the_step_and_module_and_its_cli_says_so()
    {
        var setup = new GptSetup("completep", null, Width: 32, Depth: 2, BaseWidth: 16, BaseDepth: 1, HeadDim: 8, VocabSize: 65, BlockSize: 16,
            LearningRate: 1e30, InitStd: 0.02, WeightDecay: 0, Eps: 1e-8, Seed: 1);
        using var data = TinyShakespeare.Load();
        var (model, optimizer, plan) = ParameterizedGpt.Create(setup, CPU, ps => optim.AdamW(ps, lr: setup.LearningRate));
        using (model)
        {
            // On the CPU each loss is read before its update: the run stops at the step, with the module, before NaN spreads.
            var act = () => Trainer.Train(model, optimizer, plan, data, new TrainSettings(10, 4, 16, 100, 1, 1, GradClip: 0), CPU);
            var e = act.Should().Throw<TrainingDivergedException>().Which;
            e.Step.Should().BeInRange(1, 9, "0-based; step 1's forward is before any update");
            double.IsFinite(e.Loss).Should().BeFalse();
            e.ModuleName.Should().StartWith("transformer.");
            e.Message.Should().StartWith($"training diverged: the loss of step {e.Step + 1} is").And.Contain($"it first appears in the output of '{e.ModuleName}'");
        }

        var output = new StringWriter();
        var error = new StringWriter();
        int code = NanoGptCli.Run(["train", "--steps", "10", "--width", "32", "--depth", "2", "--base-width", "16", "--base-depth", "1", "--head-dim", "8",
            "--block-size", "16", "--batch-size", "4", "--lr", "1e30", "--device", "cpu"], output, error);
        code.Should().Be(NanoGptCli.Failed, error.ToString());
        error.ToString().Should().StartWith("nanogpt: stopped: training diverged: the loss of step").And.Contain("it first appears in the output of 'transformer.").And.NotContain("   at ");
    }
}
