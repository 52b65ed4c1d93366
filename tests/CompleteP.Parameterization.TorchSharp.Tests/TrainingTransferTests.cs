using CompleteP.Optimizers;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Batch size and training length through Apply: a real model and a real optimizer get the transferred learning rate,
/// epsilon, weight decay and betas in every group, and FlatAdamW steps with each group's betas as TorchSharp's AdamW does.
/// </summary>
public class TrainingTransferTests
{
    // kappa = 4096 / 1024 = 4 (sqrt 2), S/S_base = 4000 / 1000 = 4: LR x2, eps /2, coupled decay /2/4 = /8,
    // betas 1 - 4*(1 - 0.9) = 0.6 and 1 - 4*(1 - 0.95) = 0.8.
    private static readonly TrainingShape BaseRun = new(1024, 1024L * 1000);
    private static readonly TrainingShape TargetRun = new(4096, 4096L * 4000);

    private static ParameterizeOptions Options(bool training, double beta1 = 0.9, double beta2 = 0.95, TrainingShape? target = null) =>
        TestSupport.Options(Parameterization.CompleteP, 32, 1, 16, lr: 0.02, wd: 0.1, eps: 1e-6) with
        {
            Hyperparameters = new BaseHyperparameters(0.02, 0.02, 0.1, 1e-6, beta1, beta2),
            BaseTraining = training ? BaseRun : null,
            TargetTraining = training ? target ?? TargetRun : null,
        };

    private static (NanoGpt.Gpt Model, AdamW Optimizer, ParameterizationPlan Plan) Build(bool flat, bool training, double beta1 = 0.9, double beta2 = 0.95)
    {
        manual_seed(11);
        var model = BuildGpt(64, 2);
        var parameters = model.parameters().ToList();
        AdamW optimizer = flat ? new FlatAdamW(parameters, lr: 1e-3, beta1: beta1, beta2: beta2) : optim.AdamW(parameters, lr: 1e-3, beta1: beta1, beta2: beta2);
        var plan = Parameterize.Apply(model, optimizer, Options(training, beta1, beta2));
        return (model, optimizer, plan);
    }

    [Fact]
    public void A_plan_with_kappa_4_gives_every_group_the_transferred_lr_eps_decay_and_betas()
    {
        var (model, optimizer, plan) = Build(flat: false, training: true);
        var (plainModel, plainOptimizer, plain) = Build(flat: false, training: false);
        using var m1 = model;
        using var m2 = plainModel;

        plan.Setup.Training!.BatchMultiplier.Should().Be(4);
        int decayed = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            var row = plan[name];
            var group = (AdamW.Options)GroupOf(optimizer, p).Options;
            var (lr, wd, eps) = HyperparametersOf(optimizer, p);
            var (lr0, wd0, eps0) = HyperparametersOf(plainOptimizer, plainModel.get_parameter(name)!);

            lr.Should().Be(row.Applied.LearningRate, name);
            eps.Should().Be(row.Applied.AdamEpsilon, name);
            wd.Should().Be(row.Applied.WeightDecay, name);
            lr.Should().BeApproximately(lr0 * 2, 1e-12 * lr0, "{0}: LR x sqrt(kappa)", name);
            eps.Should().BeApproximately(eps0 / 2, 1e-12 * eps0, "{0}: eps / sqrt(kappa)", name);
            wd.Should().BeApproximately(wd0 / 8, 1e-12 * wd0, "{0}: coupled decay / sqrt(kappa) * S_base/S", name);
            decayed += wd0 > 0 ? 1 : 0;
            group.beta1!.Value.Should().BeApproximately(0.6, 1e-12, name);
            group.beta2!.Value.Should().BeApproximately(0.8, 1e-12, name);
            row.Applied.Beta1.Should().Be(group.beta1.Value, name);
            row.Applied.Explained.LearningRate.Formula.Should().Contain("sqrt(kappa)", name);
        }

        decayed.Should().BeGreaterThan(0, "some groups decay");
        plainOptimizer.ParamGroups.Cast<ParamGroup>().Select(g => ((AdamW.Options)g.Options).beta2).Should().OnlyContain(b => b == 0.95, "without training shapes the groups keep the optimizer's betas");
        plan.Diagnostics.Should().NotContain(d => d.Severity == DiagnosticSeverity.Warning && d.Subject.StartsWith("(beta", StringComparison.Ordinal));
    }

    [Fact]
    public void FlatAdamW_steps_with_each_groups_transferred_betas_as_torchsharp_adamw()
    {
        var reference = Build(flat: false, training: true);
        var flat = Build(flat: true, training: true);
        var control = Build(flat: true, training: true);
        using var a = reference.Model;
        using var b = flat.Model;
        using var c = control.Model;

        // The control steps with the base betas in one group: if FlatAdamW ignored per-group betas, flat would match it instead.
        var hidden = control.Optimizer.ParamGroups.Cast<ParamGroup>().First(g => g.Parameters.Any(p => p.shape.Length == 2 && p.shape[0] == 256));
        ((AdamW.Options)hidden.Options).beta1 = 0.9;
        ((AdamW.Options)hidden.Options).beta2 = 0.95;

        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            var x = Tokens(4, 16, 65, 200 + step);
            foreach (var run in new[] { reference, flat, control })
            {
                run.Optimizer.zero_grad();
                nn.functional.cross_entropy(run.Model.call(x).view(-1, 65), x.view(-1)).backward();
                run.Optimizer.step();
            }
        }

        var theirs = reference.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var controls = control.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        float largestControlGap = 0;
        foreach (var (name, p) in flat.Model.named_parameters())
        {
            float scale = theirs[name].abs().max().item<float>() + 1e-12f;
            (p - theirs[name]).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-5f * scale, name);
            largestControlGap = Math.Max(largestControlGap, (controls[name] - theirs[name]).abs().max().item<float>() / scale);
        }

        largestControlGap.Should().BeGreaterThan(1e-3f, "the base betas in one group give other weights: the comparison can fail");
    }

    [Fact]
    public void A_checkpoint_keeps_the_training_shapes_and_a_fresh_optimizer_gets_the_transferred_betas_on_load()
    {
        string path = Path.Combine(Path.GetTempPath(), $"transfer-{Guid.NewGuid():N}.bin");
        try
        {
            var (model, optimizer, plan) = Build(flat: false, training: true);
            using (model)
            {
                ParameterizedCheckpoint.Save(model, plan, path);
            }

            manual_seed(12);
            using var fresh = BuildGpt(64, 2);
            using var freshOptimizer = optim.AdamW(fresh.parameters(), lr: 1e-3); // PyTorch's betas 0.9, 0.999
            var loaded = ParameterizedCheckpoint.Load(fresh, freshOptimizer, path);

            loaded.Should().Be(plan);
            loaded.Setup.Training!.BatchMultiplier.Should().Be(4);
            foreach (var (name, p) in fresh.named_parameters())
            {
                var group = (AdamW.Options)GroupOf(freshOptimizer, p).Options;
                group.beta1!.Value.Should().BeApproximately(0.6, 1e-12, name);
                group.beta2!.Value.Should().BeApproximately(0.8, 1e-12, name);
                HyperparametersOf(freshOptimizer, p).Lr.Should().Be(plan[name].Applied.LearningRate, name);
            }
        }
        finally
        {
            foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public void Low_betas_and_betas_the_optimizer_does_not_share_are_warnings_of_the_plan()
    {
        // kappa 8: beta1 = 1 - 8*0.1 = 0.2.
        manual_seed(1);
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters(), beta1: 0.9, beta2: 0.99);
        var plan = Parameterize.Apply(model, optimizer, Options(true, target: new TrainingShape(8192, 8192L * 1000)));

        var warnings = plan.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList();
        warnings.Should().Contain(d => d.Subject == "(beta1)" && d.Message.Contains("below 0.5"));
        warnings.Should().Contain(d => d.Subject == "(betas)" && d.Message.Contains("(0.9, 0.99)") && d.Message.Contains("(0.9, 0.95)"));
        optimizer.ParamGroups.Cast<ParamGroup>().Select(g => ((AdamW.Options)g.Options).beta1!.Value).Should().OnlyContain(v => Math.Abs(v - 0.2) < 1e-12);
        plan.ToTable().Should().Contain("kappa = 8").And.Contain("beta1 1 - kappa*(1 - beta1)");
    }
}
