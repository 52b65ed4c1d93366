using TorchSharp;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// A checkpoint records where every multiplier acts (folded into a row's weight, or a hook on a module), so a model
/// loaded with <see cref="ParameterizedCheckpoint.Load"/> (which calls <see cref="Parameterize.Attach"/>) trains on exactly
/// as the saved one would have, whichever <see cref="MultiplierMode"/> Apply used.
/// </summary>
public class CheckpointModesTests
{
    private static readonly Tensor Ids = Tokens(4, 12, 40, 21).DetachFromDisposeScope();

    private static Tensor Loss(CallGpt model) =>
        nn.functional.cross_entropy(model.call(Ids).narrow(1, 0, 11).reshape(-1, 40), Ids.narrow(1, 1, 11).reshape(-1));

    private static List<double> Train(CallGpt model, optim.Optimizer optimizer, int steps)
    {
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = Loss(model);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<double>());
        }

        return losses;
    }

    [Theory]
    [InlineData(MultiplierMode.Fold)]
    [InlineData(MultiplierMode.Hooks)]
    public void A_checkpoint_records_the_multiplier_mode_and_the_loaded_model_trains_on_step_for_step(MultiplierMode mode)
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-modes-{Guid.NewGuid():N}.bin");
        try
        {
            var options = Options(Parameterization.CompleteP, 32, 1, 16, lr: 0.02, std: 0.05, wd: 0.1, eps: 1e-8) with { Multipliers = mode };
            using var model = new CallGpt(vocab: 40, width: 64, depth: 3);
            model.to(ScalarType.Float64);
            using var optimizer = optim.AdamW(model.parameters());
            using var generator = new Generator(3);
            var plan = Parameterize.Apply(model, optimizer, options with { Generator = generator, SampleForward = () => model.call(Ids) });
            if (mode == MultiplierMode.Fold)
            {
                plan.Hooks.Should().BeEmpty();
                plan.Rows.Should().Contain(r => r.Folded != null);
            }
            else
            {
                plan.Hooks.Should().HaveCount(3 * 2 + 1, "a hook on every branch and on the readout");
                plan.Rows.Should().OnlyContain(r => r.Folded == null);
            }

            Train(model, optimizer, 2);
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            File.ReadAllText(ParameterizedCheckpoint.PlanPath(path)).Should().Contain(mode == MultiplierMode.Fold ? "\"folded\"" : "\"hooks\"");
            var continued = Train(model, optimizer, 3);

            using var fresh = new CallGpt(vocab: 40, width: 64, depth: 3);
            fresh.to(ScalarType.Float64);
            using var freshOptimizer = optim.AdamW(fresh.parameters());
            var loaded = ParameterizedCheckpoint.Load(fresh, freshOptimizer, path, sampleForward: () => fresh.call(Ids));
            loaded.Should().Be(plan, "the plan, with its folds and hooks, comes back as saved");
            var resumed = Train(fresh, freshOptimizer, 3);

            resumed.Should().Equal(continued, "weights, multipliers (folded or hooked), groups and moments came back");
        }
        finally
        {
            foreach (var f in new[] { path, ParameterizedCheckpoint.PlanPath(path), ParameterizedCheckpoint.OptimizerPath(path) })
            {
                File.Delete(f);
            }
        }
    }
    [Fact]
    public void Loading_a_plan_with_hooks_needs_a_sample_forward_to_prove_them_and_loads_nothing_without_one()
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-hooks-{Guid.NewGuid():N}.bin");
        try
        {
            using var model = new CallGpt(vocab: 40, width: 64, depth: 3);
            using var optimizer = optim.AdamW(model.parameters());
            var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16) with { Multipliers = MultiplierMode.Hooks, SampleForward = () => model.call(Ids) });
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);

            using var fresh = new CallGpt(vocab: 40, width: 64, depth: 3);
            using var freshOptimizer = optim.AdamW(fresh.parameters());
            var before = fresh.parameters().Select(p => p.detach().clone()).ToList();
            var act = () => ParameterizedCheckpoint.Load(fresh, freshOptimizer, path);

            act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("forward hooks").And.Contain("pass sampleForward");
            fresh.parameters().Zip(before, (p, b) => (p.detach() - b).abs().max().item<float>() == 0).Should().OnlyContain(same => same, "nothing was loaded");
            fresh.has_buffer(Parameterize.MarkerBufferName).Should().BeFalse();
            var attach = () => Parameterize.Attach(fresh, freshOptimizer, plan);
            attach.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("Pass sampleForward");
        }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(f);
            }
        }
    }
}
