using CompleteP.Optimizers;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>FlatAdamW against TorchSharp's AdamW on the same parameterized groups: same losses and weights.</summary>
public class FlatAdamWTests
{
    private const int Width = 64;
    private const double MaxNorm = 0.3;

    /// <summary>A CompleteP nanoGPT and its optimizer (TorchSharp's AdamW or FlatAdamW), from one seed.</summary>
    private static (NanoGpt.Gpt Model, AdamW Optimizer, ParameterizationPlan Plan) Build(bool flat, int depth = 2, bool amsgrad = false, bool maximize = false)
    {
        manual_seed(11);
        var model = BuildGpt(Width, depth);
        var parameters = model.parameters().ToList();
        AdamW optimizer = flat
            ? new FlatAdamW(parameters, lr: 1e-3, beta1: 0.9, beta2: 0.95, amsgrad: amsgrad, maximize: maximize)
            : optim.AdamW(parameters, lr: 1e-3, beta1: 0.9, beta2: 0.95, amsgrad: amsgrad, maximize: maximize);
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16, lr: 0.02, wd: 0.1, eps: 1e-6));
        return (model, optimizer, plan);
    }

    /// <summary>The plan with folded multipliers on some rows, so that fold-aware clipping has factors to use.</summary>
    private static ParameterizationPlan WithFoldedRows(ParameterizationPlan plan) => new(plan.Setup, plan.Multipliers,
        plan.Rows.Select(r => new PlanRow(r.Name, r.Shape, r.Rule, r.SharedWith, r.ResidualBranch, r.Trainable))
            .Select(r => r.Name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? r.Fold(new FoldedMultiplier(MultiplierKind.Residual, ScaledValue.Constant(0.5))) : r).ToList());

    private static Tensor Batch(int step) => Tokens(4, 16, 65, 100 + step);

    private static Tensor Loss(NanoGpt.Gpt model, Tensor x, bool maximize) =>
        nn.functional.cross_entropy(model.call(x).view(-1, 65), x.view(-1)) * (maximize ? -1.0 : 1.0);

    /// <summary>Trains both models the same way; the reference clips with ParameterizedGradients, the flat one with its own clipping.</summary>
    private static (List<double> Reference, List<double> Flat, List<double> Norms) TrainBoth(
        (NanoGpt.Gpt Model, AdamW Optimizer, ParameterizationPlan Plan) reference, (NanoGpt.Gpt Model, AdamW Optimizer, ParameterizationPlan Plan) flat,
        int steps, string schedule, bool clip, bool maximize = false, Func<ParameterizationPlan, ParameterizationPlan>? clipPlan = null)
    {
        clipPlan ??= p => p;
        var flatOptimizer = (FlatAdamW)flat.Optimizer;
        if (clip)
        {
            flatOptimizer.SetGradientClipping(MaxNorm, flat.Model, clipPlan(flat.Plan));
        }

        Func<int, double> factor = i => 1.0 / (1 + 0.5 * i);
        var schedulers = schedule == "lambda"
            ? new[] { optim.lr_scheduler.LambdaLR(reference.Optimizer, factor), optim.lr_scheduler.LambdaLR(flatOptimizer, factor) }
            : null;
        var helpers = schedule == "helper" ? new[] { new GroupLearningRates(reference.Optimizer), new GroupLearningRates(flatOptimizer) } : null;
        var losses = (Reference: new List<double>(), Flat: new List<double>(), Norms: new List<double>());
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            helpers?[0].SetFactor(factor(step));
            helpers?[1].SetFactor(factor(step));
            var x = Batch(step);

            reference.Optimizer.zero_grad();
            var lossA = Loss(reference.Model, x, maximize);
            lossA.backward();
            if (clip)
            {
                losses.Norms.Add(ParameterizedGradients.ClipGradNorm(reference.Model, clipPlan(reference.Plan), MaxNorm));
            }

            reference.Optimizer.step();

            flatOptimizer.zero_grad();
            var lossB = Loss(flat.Model, x, maximize);
            lossB.backward();
            flatOptimizer.step();
            if (clip)
            {
                flatOptimizer.LastGradientNorm!.item<float>().Should().BeApproximately((float)losses.Norms[^1], 1e-5f * (float)losses.Norms[^1]);
            }

            losses.Reference.Add(lossA.item<float>());
            losses.Flat.Add(lossB.item<float>());
            if (schedulers is not null)
            {
                foreach (var s in schedulers)
                {
                    s.step();
                }
            }
        }

        return losses;
    }

    private static void WeightsShouldAgree(nn.Module reference, nn.Module flat, float tolerance)
    {
        var theirs = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in flat.named_parameters())
        {
            float scale = theirs[name].abs().max().item<float>() + 1e-12f;
            (p - theirs[name]).abs().max().item<float>().Should().BeLessThanOrEqualTo(tolerance * scale, name);
        }
    }

    [Theory]
    [InlineData(false, "lambda")]
    [InlineData(true, "lambda")]
    [InlineData(true, "helper")]
    public void Steps_give_the_same_losses_and_weights_as_torchsharp_adamw(bool clip, string schedule)
    {
        var reference = Build(flat: false);
        var flat = Build(flat: true);
        using var a = reference.Model;
        using var b = flat.Model;
        flat.Optimizer.ParamGroups.Should().HaveCountGreaterThan(2, "Apply made several groups");
        WeightsShouldAgree(reference.Model, flat.Model, 0);

        var (lossesA, lossesB, norms) = TrainBoth(reference, flat, steps: 8, schedule, clip);

        lossesB.Should().HaveCount(8);
        lossesA.Zip(lossesB).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 2e-6 * Math.Abs(p.First));
        lossesA[^1].Should().BeLessThan(lossesA[0], "it trains");
        if (clip)
        {
            norms.Should().Contain(n => n > MaxNorm, "the test must clip");
        }

        WeightsShouldAgree(reference.Model, flat.Model, 1e-5f);
        flat.Optimizer.ParamGroups.Cast<ParamGroup>().Select(g => g.LearningRate).Should()
            .Equal(reference.Optimizer.ParamGroups.Cast<ParamGroup>().Select(g => g.LearningRate), "each group's LR follows the schedule");
    }

    [Fact]
    public void Fold_aware_clipping_matches_parameterized_gradients_and_amsgrad_and_maximize_match()
    {
        var reference = Build(flat: false, amsgrad: true, maximize: true);
        var flat = Build(flat: true, amsgrad: true, maximize: true);
        using var a = reference.Model;
        using var b = flat.Model;

        var (lossesA, lossesB, norms) = TrainBoth(reference, flat, steps: 6, "lambda", clip: true, maximize: true, clipPlan: WithFoldedRows);

        norms.Should().Contain(n => n > MaxNorm);
        lossesA.Zip(lossesB).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 2e-6 * Math.Abs(p.First));
        WeightsShouldAgree(reference.Model, flat.Model, 1e-5f);
    }

    [Fact]
    public void Parameters_become_views_of_one_buffer_per_group()
    {
        var flat = Build(flat: true, depth: 3);
        using var _ = flat.Model;
        var optimizer = (FlatAdamW)flat.Optimizer;
        var buffers = optimizer.FlatParameters;
        buffers.Should().HaveCount(optimizer.ParamGroups.Count());
        buffers.Sum(t => t.numel()).Should().Be(flat.Model.parameters().Sum(p => p.numel()));

        // writing into a group's buffer is seen by the model's parameters at once
        var group = optimizer.ParamGroups.Cast<ParamGroup>().First();
        using (no_grad())
        {
            buffers[0].fill_(0.125);
        }

        group.Parameters.Should().OnlyContain(p => p.eq(0.125).all().item<bool>());
    }

    [Fact]
    public void A_parameter_without_gradient_is_skipped_as_torchsharp_skips_it()
    {
        var reference = Build(flat: false);
        var flat = Build(flat: true);
        using var a = reference.Model;
        using var b = flat.Model;
        var x = Batch(0);
        foreach (var (model, optimizer) in new[] { (reference.Model, reference.Optimizer), (flat.Model, flat.Optimizer) })
        {
            for (int step = 0; step < 3; step++)
            {
                optimizer.zero_grad();
                Loss(model, x, false).backward();
                if (step == 1)
                {
                    model.Transformer.LnF.named_parameters().First().parameter.grad = null; // as if unused this step
                }

                optimizer.step();
            }
        }

        WeightsShouldAgree(reference.Model, flat.Model, 1e-5f);
        var states = ((OptimizerHelper)flat.Optimizer).state_dict().State.Cast<AdamW.State>().Select(s => s.step).ToList();
        states.Should().Contain(2).And.Contain(3);
    }

    [Fact]
    public void A_checkpoint_round_trip_keeps_the_flat_state_and_training_continues_identically()
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-flat-{Guid.NewGuid():N}.bin");
        try
        {
            var trained = Build(flat: true);
            using var a = trained.Model;
            for (int step = 0; step < 2; step++)
            {
                trained.Optimizer.zero_grad();
                Loss(trained.Model, Batch(step), false).backward();
                trained.Optimizer.step();
            }

            ParameterizedCheckpoint.Save(trained.Model, trained.Plan, path, trained.Optimizer);

            manual_seed(99);
            using var fresh = BuildGpt(Width, 2);
            using var freshOptimizer = new FlatAdamW(fresh.parameters().ToList());
            ParameterizedCheckpoint.Load(fresh, freshOptimizer, path);

            var saved = ((OptimizerHelper)trained.Optimizer).state_dict();
            var loaded = freshOptimizer.state_dict();
            loaded.State.Should().HaveCount(saved.State.Count);
            for (int i = 0; i < saved.State.Count; i++)
            {
                var (s, l) = ((AdamW.State)saved.State[i], (AdamW.State)loaded.State[i]);
                l.step.Should().Be(2);
                l.exp_avg.allclose(s.exp_avg, rtol: 0, atol: 0).Should().BeTrue();
                l.exp_avg_sq.allclose(s.exp_avg_sq, rtol: 0, atol: 0).Should().BeTrue();
            }

            foreach (var (model, optimizer) in new[] { (trained.Model, (AdamW)trained.Optimizer), (fresh, freshOptimizer) })
            {
                optimizer.zero_grad();
                Loss(model, Batch(5), false).backward();
                optimizer.step();
            }

            WeightsShouldAgree(trained.Model, fresh, 0);
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
