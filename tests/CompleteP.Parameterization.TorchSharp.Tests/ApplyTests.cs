using CompleteP.Tests.Adapter.Models;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;


/// <summary>Init, optimizer groups, multipliers and the errors of Parameterize.Apply.</summary>
public class ApplyTests
{
    [Fact]
    public void Init_is_reproducible_under_manual_seed_and_under_an_explicit_generator()
    {
        float[] Weights(Func<ParameterizeOptions, ParameterizeOptions> configure, int seed)
        {
            manual_seed(seed);
            using var model = BuildGpt(64, 2);
            manual_seed(1234); // Apply must not depend on the construction-time RNG state...
            manual_seed(seed); // ...only on the state when it runs
            using var optimizer = optim.AdamW(model.parameters());
            Parameterize.Apply(model, optimizer, configure(Options(Parameterization.CompleteP, 64, 1, 16)));
            return model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        }

        Weights(o => o, 7).Should().Equal(Weights(o => o, 7));
        Weights(o => o, 7).Should().NotEqual(Weights(o => o, 8));
        Weights(o => o with { Generator = new Generator(42) }, 1).Should().Equal(Weights(o => o with { Generator = new Generator(42) }, 2));
    }

    [Fact]
    public void Optimizer_groups_keep_every_option_the_user_set()
    {
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters(), lr: 0.5, beta1: 0.8, beta2: 0.95, eps: 1e-3, weight_decay: 0.7, amsgrad: true);
        Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16));

        var groups = optimizer.ParamGroups.Cast<AdamW.ParamGroup>().ToList();
        groups.Should().HaveCountGreaterThan(2);
        groups.Should().OnlyContain(g => g.Options.beta1 == 0.8 && g.Options.beta2 == 0.95 && g.Options.amsgrad == true);
        groups.Select(g => g.LearningRate).Should().NotContain(0.5, "the rules set every group's learning rate");
        // Embeddings and norms 0.01, hidden weights 0.01 / m_N = 0.005, the c_proj weights with the residual multiplier
        // m_L^-1 = 1/2 folded in 0.0025.
        groups.Select(g => g.LearningRate).Distinct().Should().BeEquivalentTo([0.01, 0.005, 0.0025]);
    }

    [Fact]
    public void One_adamw_step_matches_a_hand_computation_per_group()
    {
        using var model = BuildGpt(128, 4);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.WithDepthExponent(0.75), 64, 2, 16, lr: 0.02, wd: 0.3, eps: 1e-4));

        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var g = new Generator(3);
        foreach (var p in model.parameters())
        {
            p.grad = randn(p.shape, generator: g) * 1e-3;
        }

        optimizer.step();

        foreach (var row in plan.Rows)
        {
            var p = model.get_parameter(row.Name)!;
            double lr = row.Applied.LearningRate, wd = row.Applied.WeightDecay, eps = row.Applied.AdamEpsilon;
            // First AdamW step: m_hat = g, v_hat = g^2, so the update is g / (|g| + eps), plus coupled decay.
            var expected = before[row.Name] * (1 - lr * wd) - lr * p.grad!.div(p.grad!.abs() + eps);
            (p - expected).abs().max().item<float>().Should().BeLessThan(1e-6f, row.Name);
        }
    }

    [Fact]
    public void Forward_multipliers_scale_residual_branches_and_the_readout_through_hooks_in_hooks_mode()
    {
        using var model = new LlamaStyle(vocab: 30, width: 32, depth: 4, headDim: 16);
        using var optimizer = optim.AdamW(model.parameters());
        var sample = Tokens(1, 3, 30, 0);
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 16, 1, 16) with { Multipliers = MultiplierMode.Hooks, SampleForward = () => model.call(sample) });
        plan.Rows.Should().OnlyContain(r => r.Folded == null);
        plan.Hooks.Should().HaveCount(4 * 2 + 1);
        plan.Multipliers.Residual.Value.Should().Be(0.25);
        plan.Multipliers.Output.Value.Should().Be(0.5);

        using var noGrad = no_grad();
        var branch = (nn.Module<Tensor, Tensor>)model.named_modules().Single(m => m.name == "layers.2.feed_forward").module;
        var head = (nn.Module<Tensor, Tensor>)model.named_modules().Single(m => m.name == "output").module;
        var x = randn(2, 5, 32);
        (branch.call(x) - branch.forward(x) * 0.25).abs().max().item<float>().Should().BeLessThan(1e-7f);
        (head.call(x) - head.forward(x) * 0.5).abs().max().item<float>().Should().BeLessThan(1e-7f);
        var attention = model.named_modules().Select(m => m.module).OfType<LlamaAttention>().ToList();
        attention.Should().HaveCount(4).And.OnlyContain(a => a.AttentionScale == 1.0 / 16);
    }

    [Fact]
    public void SP_installs_no_multiplier_and_keeps_the_standard_attention_scale()
    {
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.Standard, 32, 1, 16));
        plan.Multipliers.Residual.Value.Should().Be(1);
        plan.Multipliers.Output.Value.Should().Be(1);
        model.Transformer.H[1].Attention.AttentionScale.Should().Be(0.25);
        optimizer.ParamGroups.Cast<ParamGroup>().Select(g => g.LearningRate).Distinct().Should().Equal(0.01);
    }

    [Fact]
    public void A_second_apply_is_refused()
    {
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters());
        Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 2, 16));
        var again = () => Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 2, 16));
        again.Should().Throw<InvalidOperationException>().WithMessage("*already parameterized*");
    }

    [Fact]
    public void An_optimizer_that_misses_parameters_is_refused_with_their_names()
    {
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters().Where(p => p.dim() == 2).ToList());
        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 2, 16));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "optimizer")
            .WithMessage("*misses*transformer.h.0.ln_1.weight*");
    }

    [Fact]
    public void An_optimizer_with_foreign_or_duplicated_parameters_is_refused()
    {
        using var model = BuildGpt(64, 2);
        using var other = BuildGpt(64, 2);
        using var foreign = optim.AdamW(model.parameters().Concat(other.parameters().Take(1)).ToList());
        ((Action)(() => Parameterize.Apply(model, foreign, Options(Parameterization.CompleteP, 64, 2, 16))))
            .Should().Throw<ArgumentException>().WithMessage("*not in the model*[65x64]*");

        var ps = model.parameters().ToList();
        using var twice = optim.AdamW(new[] { new AdamW.ParamGroup(ps, new AdamW.Options()), new AdamW.ParamGroup(ps.Take(1), new AdamW.Options()) });
        ((Action)(() => Parameterize.Apply(model, twice, Options(Parameterization.CompleteP, 64, 2, 16))))
            .Should().Throw<ArgumentException>().WithMessage("*twice*updated twice*");
    }

    [Fact]
    public void Frozen_parameters_keep_their_values_and_join_no_group()
    {
        using var model = BuildGpt(64, 2);
        var wpe = model.get_parameter("transformer.wpe.weight")!;
        wpe.requires_grad = false;
        var frozen = wpe.detach().clone();
        using var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 1, 16));

        plan["transformer.wpe.weight"].Trainable.Should().BeFalse();
        wpe.equal(frozen).all().item<bool>().Should().BeTrue();
        optimizer.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).Should().NotContain(p => p.Handle == wpe.Handle);
    }

    [Fact]
    public void Sgd_is_refused_outside_SP_and_regrouped_under_SP()
    {
        using var model = BuildGpt(64, 2);
        using var sgd = optim.SGD(model.parameters(), learningRate: 0.1, momentum: 0.9);
        ((Action)(() => Parameterize.Apply(model, sgd, Options(Parameterization.CompleteP, 64, 1, 16))))
            .Should().Throw<NotSupportedException>().WithMessage("*SGD*Table 1*");
        Parameterize.Apply(model, sgd, Options(Parameterization.Standard, 64, 1, 16, lr: 0.03));
        sgd.ParamGroups.Cast<SGD.ParamGroup>().Should().OnlyContain(g => g.LearningRate == 0.03 && g.Options.momentum == 0.9);
    }

    [Fact]
    public void Adam_is_regrouped_and_an_unsupported_optimizer_is_refused()
    {
        using var model = BuildGpt(64, 2);
        using var adam = optim.Adam(model.parameters());
        Parameterize.Apply(model, adam, Options(Parameterization.MuP, 32, 2, 16));
        adam.ParamGroups.Cast<Adam.ParamGroup>().Select(g => g.LearningRate).Distinct().Should().BeEquivalentTo([0.01, 0.005]);

        using var model2 = BuildGpt(64, 2);
        using var rms = optim.RMSProp(model2.parameters());
        ((Action)(() => Parameterize.Apply(model2, rms, Options(Parameterization.MuP, 32, 2, 16))))
            .Should().Throw<NotSupportedException>().WithMessage("*RMSProp*AdamW, Adam and SGD*");
    }

    [Fact]
    public void Missing_options_are_refused_by_name()
    {
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters());
        ((Action)(() => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 2, 16) with { Hyperparameters = null! })))
            .Should().Throw<ArgumentException>().WithMessage("*options.Hyperparameters*");
        ((Action)(() => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 2, 16) with { BaseShape = null })))
            .Should().Throw<ArgumentException>().WithMessage("*options.BaseShape*");
        ((Action)(() => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 2, 24))))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "headDim");
    }

    [Fact]
    public void The_plan_is_written_to_the_logger()
    {
        var logger = new FakeLogger();
        using var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters());
        Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16) with { Logger = logger });
        logger.Collector.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Information
            && r.Message.Contains("transformer.h.1.mlp.c_fc.weight") && r.Message.Contains("completep"));
    }

    [Fact]
    public void Rule_options_reach_the_optimizer_groups()
    {
        using var model = BuildGpt(128, 8);
        using var optimizer = optim.AdamW(model.parameters());
        var options = Options(Parameterization.CompleteP, 64, 2, 16, lr: 0.01, wd: 0.1, eps: 1e-8) with
        {
            RuleOptions = new RuleOptions { EpsilonScope = EpsilonScope.Global, WeightDecayConvention = WeightDecayConvention.Independent },
        };
        var plan = Parameterize.Apply(model, optimizer, options);

        // Independent decay: the group's coupled per-step decay lr * wd equals the plan's value, lambda * m_L^(alpha-1) = 0.1.
        var (lr, wd, eps) = HyperparametersOf(optimizer, model.get_parameter("transformer.h.3.mlp.c_fc.weight")!);
        (lr * wd).Should().BeApproximately(plan["transformer.h.3.mlp.c_fc.weight"].Rule.WeightDecay, 1e-15);
        (lr * wd).Should().BeApproximately(0.1, 1e-15);
        // Global epsilon scope: the embedding gets eps * m_N^-1 * m_L^-alpha too (m_N = 2, m_L = 4).
        HyperparametersOf(optimizer, model.get_parameter("transformer.wte.weight")!).Eps.Should().BeApproximately(1e-8 / 8, 1e-20);
        eps.Should().BeApproximately(1e-8 / 8, 1e-20);
    }
}
