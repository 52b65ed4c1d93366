using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;


public class SchedulesAndCheckpointTests
{
    private static (NanoGpt.Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Parameterized()
    {
        var model = BuildGpt(128, 4);
        var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16));
        return (model, optimizer, plan);
    }

    private static double[] Lrs(optim.Optimizer o) => o.ParamGroups.Cast<ParamGroup>().Select(g => g.LearningRate).ToArray();

    public static TheoryData<string> Schedulers() => new() { "cosine", "lambda", "step", "sequential" };

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void TorchSharp_schedulers_keep_the_per_group_ratios(string kind)
    {
        var (model, optimizer, _) = Parameterized();
        using var _ = model;
        var initial = Lrs(optimizer);
        initial.Distinct().Should().HaveCountGreaterThan(1);
        var scheduler = kind switch
        {
            "cosine" => optim.lr_scheduler.CosineAnnealingLR(optimizer, 10),
            "lambda" => optim.lr_scheduler.LambdaLR(optimizer, i => 1.0 / (1 + i)),
            "step" => optim.lr_scheduler.StepLR(optimizer, 2, 0.5),
            _ => optim.lr_scheduler.SequentialLR(optimizer,
                [optim.lr_scheduler.LinearLR(optimizer, 0.1, 1.0, 3), optim.lr_scheduler.CosineAnnealingLR(optimizer, 5)], [3]),
        };
        for (int i = 0; i < 5; i++)
        {
            optimizer.step();
            scheduler.step();
        }

        var now = Lrs(optimizer);
        double factor = now[0] / initial[0];
        factor.Should().BeLessThan(1);
        now.Select((lr, i) => lr / initial[i]).Should().OnlyContain(f => Math.Abs(f - factor) < 1e-9 * Math.Max(1, factor));
    }

    [Fact]
    public void The_schedule_helper_multiplies_each_group_base_by_one_factor()
    {
        var (model, optimizer, _) = Parameterized();
        using var _ = model;
        var lrs = new GroupLearningRates(optimizer);
        var initial = Lrs(optimizer);
        lrs.SetFactor(GroupLearningRates.WarmupCosine(0, warmupSteps: 4, totalSteps: 20));
        Lrs(optimizer).Should().Equal(initial.Select(lr => lr * 0.25));
        lrs.SetFactor(GroupLearningRates.WarmupCosine(19, warmupSteps: 4, totalSteps: 20, finalFactor: 0.1));
        Lrs(optimizer).Zip(initial).Should().OnlyContain(p => Math.Abs(p.First - p.Second * 0.1) < 1e-15);
        ((Action)(() => lrs.SetFactor(double.NaN))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("factor");
    }

    [Fact]
    public void A_checkpoint_round_trip_keeps_weights_multipliers_groups_and_optimizer_state()
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-{Guid.NewGuid():N}.bin");
        try
        {
            var (model, optimizer, plan) = Parameterized();
            var x = Tokens(2, 16, 65, 1);
            for (int i = 0; i < 2; i++)
            {
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(x).view(-1, 65), x.view(-1)).backward();
                optimizer.step();
            }

            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            using var noGrad = no_grad();
            var expected = model.call(x);

            manual_seed(99);
            using var fresh = BuildGpt(128, 4);
            using var freshOptimizer = optim.AdamW(fresh.parameters());
            var loaded = ParameterizedCheckpoint.Load(fresh, freshOptimizer, path);

            loaded.Should().BeEquivalentTo(plan);
            (fresh.call(x) - expected).abs().max().item<float>().Should().BeLessThan(1e-6f, "weights and the residual/readout multipliers came back");
            Lrs(freshOptimizer).Should().Equal(Lrs(optimizer));
            var state = ((AdamW.State)((OptimizerHelper)freshOptimizer).state_dict().State[0]);
            state.step.Should().Be(2);
        }
        finally
        {
            foreach (var f in new[] { path, ParameterizedCheckpoint.PlanPath(path), ParameterizedCheckpoint.OptimizerPath(path) })
            {
                File.Delete(f);
            }
        }
    }
}
