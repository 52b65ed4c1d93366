using TorchSharp;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>Per-module base hyperparameters on a real model: Apply, the optimizer groups, the drawn weights, and a checkpoint.</summary>
public class ModuleHyperparameterApplyTests
{
    private static readonly Tensor Ids = Tokens(4, 12, 40, 21).DetachFromDisposeScope();

    private static readonly ModuleHyperparameter[] Modules = [ModuleHyperparameter.Parse("embedding.lr=2"), ModuleHyperparameter.Parse("h.*.mlp.*.init=0.5")];

    // CompleteP, 32x1 -> 64x4: m_N = 2, m_L = 4.
    private static ParameterizeOptions OptionsWith(IReadOnlyList<ModuleHyperparameter>? modules) =>
        Options(Parameterization.CompleteP, 32, 1, 16, lr: 0.02, std: 0.05, wd: 0.1, eps: 1e-8) with
        {
            Hyperparameters = new BaseHyperparameters(0.02, 0.05, 0.1, 1e-8, modules: modules),
        };

    [Fact]
    public void Apply_multiplies_the_selected_tensors_and_their_groups_and_leaves_the_rest()
    {
        using var plainModel = new CallGpt(vocab: 40, width: 64, depth: 4);
        using var plainOptimizer = optim.AdamW(plainModel.parameters());
        var plain = Parameterize.Apply(plainModel, plainOptimizer, OptionsWith(null));
        using var model = new CallGpt(vocab: 40, width: 64, depth: 4);
        using var optimizer = optim.AdamW(model.parameters());
        using var generator = new Generator(7);
        var plan = Parameterize.Apply(model, optimizer, OptionsWith(Modules) with { Generator = generator });

        foreach (var row in plan.Rows)
        {
            var before = plain[row.Name].Applied;
            double lr = row.Name.StartsWith("wte.", StringComparison.Ordinal) || row.Name.StartsWith("wpe.", StringComparison.Ordinal) ? 2 : 1;
            double init = row.Name.Contains(".mlp.", StringComparison.Ordinal) && !row.Rule.IsBias ? 0.5 : 1;
            row.Applied.LearningRate.Should().Be(lr * before.LearningRate, row.Name);
            row.Applied.InitValue.Should().Be(init * before.InitValue, row.Name);
            row.Applied.WeightDecay.Should().Be(before.WeightDecay, row.Name);
            row.Applied.AdamEpsilon.Should().Be(before.AdamEpsilon, row.Name);
        }

        // Hand-computed: the embedding's LR is 2 * eta; the MLP weights' init 0.5 * sigma * m_N^-1/2 (c_fc's fan-in is the width).
        plan["wte.weight"].Applied.LearningRate.Should().Be(0.04);
        plan["h.0.mlp.c_fc.weight"].Applied.InitValue.Should().BeApproximately(0.5 * 0.05 / Math.Sqrt(2), 1e-15);
        plan["h.0.attn.c_attn.weight"].Applied.InitValue.Should().BeApproximately(0.05 / Math.Sqrt(2), 1e-15);

        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        GroupOf(optimizer, named["wte.weight"]).LearningRate.Should().Be(0.04, "the optimizer group carries the multiplied LR");
        double drawn = named["h.1.mlp.c_fc.weight"].std().item<float>();
        drawn.Should().BeApproximately(0.5 * 0.05 / Math.Sqrt(2), 0.05 * 0.5 * 0.05 / Math.Sqrt(2), "the MLP weights are drawn with the multiplied std");
    }

    [Fact]
    public void Branch_factors_fold_into_each_branch_and_a_checkpoint_brings_them_back()
    {
        // CompleteP 32x1 -> 64x4: m_L^-1 = 1/4; the attention branches x0.5, the MLP of block 2 x3.
        ModuleHyperparameter[] branches = [ModuleHyperparameter.Parse("h.*.attn.res=0.5"), ModuleHyperparameter.Parse("h.2.mlp.res=3")];
        string path = Path.Combine(Path.GetTempPath(), $"completep-res-{Guid.NewGuid():N}.bin");
        try
        {
            using var model = new CallGpt(vocab: 40, width: 64, depth: 4);
            using var optimizer = optim.AdamW(model.parameters());
            var plan = Parameterize.Apply(model, optimizer, OptionsWith(branches) with { SampleForward = () => model.call(Ids) });
            plan["h.0.attn.c_proj.weight"].Folded!.Value.Value.Should().Be(0.125);
            plan["h.0.attn.c_proj.weight"].Folded!.Value.Formula.Should().Be("hp[h.*.attn.res] * m_L^-alpha");
            plan["h.2.mlp.c_proj.weight"].Folded!.Value.Value.Should().Be(0.75);
            plan["h.1.mlp.c_proj.weight"].Folded!.Value.Value.Should().Be(0.25, "a branch no entry matches keeps m_L^-alpha");
            using (var plainModel = new CallGpt(vocab: 40, width: 64, depth: 4))
            using (var plainOptimizer = optim.AdamW(plainModel.parameters()))
            {
                plan["h.0.attn.c_proj.weight"].Rule.Should().Be(Parameterize.Apply(plainModel, plainOptimizer, OptionsWith(null))["h.0.attn.c_proj.weight"].Rule,
                    "the factor changes the multiplier folded in, not the tensor's Table 1 rule");
            }

            var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            GroupOf(optimizer, named["h.0.attn.c_proj.weight"]).LearningRate.Should().BeApproximately(plan["h.0.attn.c_proj.weight"].Rule.LearningRate * 0.125, 1e-18,
                "folding c multiplies the group's LR by c");

            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            File.ReadAllText(ParameterizedCheckpoint.PlanPath(path)).Should().Contain("\"field\": \"residualMultiplier\"");
            using var fresh = new CallGpt(vocab: 40, width: 64, depth: 4);
            using var freshOptimizer = optim.AdamW(fresh.parameters());
            var loaded = ParameterizedCheckpoint.Load(fresh, freshOptimizer, path, sampleForward: () => fresh.call(Ids));
            loaded.Should().Be(plan);
            loaded.Setup.Hyperparameters.Modules.Should().Equal(branches);
        }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(f);
            }
        }
    }

    [Fact]
    public void A_checkpoint_carries_the_factors_so_a_resumed_run_gets_the_same_plan()
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-hp-{Guid.NewGuid():N}.bin");
        try
        {
            using var model = new CallGpt(vocab: 40, width: 64, depth: 4);
            model.to(ScalarType.Float64);
            using var optimizer = optim.AdamW(model.parameters());
            var plan = Parameterize.Apply(model, optimizer, OptionsWith(Modules) with { SampleForward = () => model.call(Ids) });
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            File.ReadAllText(ParameterizedCheckpoint.PlanPath(path)).Should().Contain("\"modules\": [").And.Contain("h.*.mlp.*");

            using var fresh = new CallGpt(vocab: 40, width: 64, depth: 4);
            fresh.to(ScalarType.Float64);
            using var freshOptimizer = optim.AdamW(fresh.parameters());
            var loaded = ParameterizedCheckpoint.Load(fresh, freshOptimizer, path, sampleForward: () => fresh.call(Ids));
            loaded.Should().Be(plan);
            loaded.Setup.Hyperparameters.Modules.Should().Equal(Modules);
            loaded["wte.weight"].Applied.LearningRate.Should().Be(0.04);
            var named = fresh.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            GroupOf(freshOptimizer, named["wte.weight"]).LearningRate.Should().Be(0.04, "the resumed optimizer gets the multiplied LR back");
        }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(f);
            }
        }
    }

    [Fact]
    public void An_entry_that_selects_no_parameter_is_refused_before_anything_changes()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 4);
        using var optimizer = optim.AdamW(model.parameters());
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var act = () => Parameterize.Apply(model, optimizer, OptionsWith([ModuleHyperparameter.Parse("layers.*.mlp.*.lr=2"), ModuleHyperparameter.Parse("qk-norm.lr=2")]));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "options"
            && e.Message.Contains("'layers.*.mlp.*.lr=2' selects no parameter of the model (no parameter name matches the pattern)")
            && e.Message.Contains("'qk-norm.lr=2' selects no parameter of the model (it has no qk-norm tensor)"));
        model.parameters().Zip(before, (p, b) => (p.detach() - b).abs().max().item<float>() == 0).Should().OnlyContain(same => same, "nothing was changed");
        model.has_buffer(Parameterize.MarkerBufferName).Should().BeFalse();
    }
}
