using CompleteP.Tests.Adapter.Models;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;


/// <summary>Finding roles in models the library has never seen.</summary>
public class DiscoveryTests
{
    [Fact]
    public void A_llama_style_model_is_classified_without_any_declaration()
    {
        using var model = new LlamaStyle(vocab: 50, width: 64, depth: 3, headDim: 16);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16));

        var roles = plan.Rows.ToDictionary(r => r.Name, r => r.Rule.Role);
        roles["tok_embeddings.weight"].Should().Be(TensorRole.Embedding);
        roles["layers.0.attention_norm.weight"].Should().Be(TensorRole.HiddenNorm);
        roles["layers.2.ffn_norm.weight"].Should().Be(TensorRole.HiddenNorm);
        foreach (var w in new[] { "attention.wq", "attention.wk", "attention.wv", "attention.wo", "feed_forward.w1", "feed_forward.w2", "feed_forward.w3" })
        {
            roles[$"layers.1.{w}.weight"].Should().Be(TensorRole.HiddenWeight, w);
        }

        roles["norm.weight"].Should().Be(TensorRole.FinalNorm);
        roles["output.weight"].Should().Be(TensorRole.Unembedding);
        plan.Rows.Should().HaveCount(1 + 3 * 9 + 2);
        plan.Setup.Target.Should().Be(new ModelShape(64, 3));
        plan["layers.0.attention.wo.weight"].ResidualBranch.Should().Be("layers.0.attention");
        plan["layers.0.feed_forward.w1.weight"].ResidualBranch.Should().Be("layers.0.feed_forward");
        // m_N = 2, m_L = 3, alpha = 1: hidden LR eta / 2 (Table 1); the residual multiplier 1/3 is folded into the
        // Linears that write the branches' outputs (wo, and w2, registered between w1 and w3), the readout's 1/2 into output.
        plan["layers.0.feed_forward.w2.weight"].Rule.LearningRate.Should().BeApproximately(0.005, 1e-15);
        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Select(r => r.Name).Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => new[] { $"layers.{i}.attention.wo.weight", $"layers.{i}.feed_forward.w2.weight" }));
        HyperparametersOf(optimizer, model.get_parameter("layers.0.feed_forward.w2.weight")!).Lr.Should().BeApproximately(0.005 / 3, 1e-15);
        HyperparametersOf(optimizer, model.get_parameter("layers.0.feed_forward.w1.weight")!).Lr.Should().BeApproximately(0.005, 1e-15);
        plan["output.weight"].Folded.Should().Be(new FoldedMultiplier(MultiplierKind.Output, plan.Multipliers.Output));
        HyperparametersOf(optimizer, model.get_parameter("output.weight")!).Lr.Should().BeApproximately(0.01 * 0.5, 1e-15);
    }

    [Fact]
    public void Without_declarations_a_model_that_needs_them_is_refused_with_every_problem_and_its_fix()
    {
        using var model = new GatedModel(vocab: 20, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());

        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16));

        var e = act.Should().Throw<ParameterClassificationException>().Which;
        e.Problems.Should().ContainSingle(p => p.Contains("layers.0.gate") && p.Contains("[32]") && p.Contains(".Role(\"layers.*.gate\", TensorRole.HiddenNorm)"),
            "one problem covers the gate of every block, with a pattern that matches them all");
        e.Problems.Should().Contain(p => p.Contains("'aux' (Linear) also maps the width 32 outward, besides the readout 'head'") && p.Contains(".Role(\"aux.*\", TensorRole.Unembedding)"));
        e.Problems.Should().HaveCount(2, "the aux head is reported once, not again for each of its tensors");
        e.Message.Should().Contain("nothing is silently treated as SP");
        model.has_buffer(Parameterize.MarkerBufferName).Should().BeFalse("a refused Apply changes nothing");
    }

    [Fact]
    public void Declarations_win_over_inference()
    {
        using var model = new GatedModel(vocab: 20, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16) with { Declarations = GatedModel.Declarations });

        plan["layers.1.gate"].Rule.Role.Should().Be(TensorRole.HiddenNorm);
        plan["layers.1.gate"].Rule.InitValue.Should().Be(1.0);
        plan["head.weight"].Rule.Role.Should().Be(TensorRole.Unembedding);
        plan["aux.weight"].Rule.Role.Should().Be(TensorRole.Unembedding);
        plan["layers.0.mix.up.weight"].ResidualBranch.Should().Be("layers.0.mix");
        model.get_parameter("layers.1.gate").Should().Match<Tensor>(t => t.eq(1).all().item<bool>());
    }

    [Fact]
    public void A_base_model_gives_each_hidden_weight_its_own_width_multiplier()
    {
        // The MLP hidden size is fixed at 96 while the width grows from 32 to 64: the down-projection's
        // fan-in does not scale, so it keeps the base LR; the up-projection's does.
        using var model = new LlamaStyle(vocab: 40, width: 64, depth: 2, headDim: 16, hidden: 96);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 2, 16) with
        {
            BaseShape = null,
            BaseModel = () => new LlamaStyle(vocab: 40, width: 32, depth: 2, headDim: 16, hidden: 96),
        });

        plan.Setup.BaseShape.Should().Be(new ModelShape(32, 2));
        plan["layers.0.feed_forward.w2.weight"].Rule.LearningRate.Should().BeApproximately(0.01, 1e-15);
        plan["layers.0.feed_forward.w2.weight"].Rule.WidthMultiplier.Should().Be(1.0);
        plan["layers.0.feed_forward.w1.weight"].Rule.LearningRate.Should().BeApproximately(0.005, 1e-15);
        plan["layers.0.feed_forward.w1.weight"].Rule.InitValue.Should().BeApproximately(0.02 / Math.Sqrt(2), 1e-15);
    }

    [Fact]
    public void A_declared_target_shape_that_disagrees_with_the_model_is_refused()
    {
        using var model = new LlamaStyle(vocab: 40, width: 64, depth: 2, headDim: 16);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 2, 16) with { TargetShape = new ModelShape(64, 4) });
        act.Should().Throw<ArgumentException>().WithMessage("*TargetShape*width 64, depth 4*width 64, depth 2*");
    }

    [Fact]
    public void A_head_tied_through_a_second_wrapper_is_found_and_an_optimizer_holding_both_wrappers_is_refused()
    {
        using var model = new TiedHeadModel(vocab: 30, width: 32, depth: 2);
        model.parameters().Should().HaveCount(1 + 2 * 6 + 2 + 1, "TorchSharp lists both wrappers of the tied tensor");
        using var both = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, both, Options(Parameterization.CompleteP, 32, 1, 16) with
        {
            Declarations = ModelDeclarations.None.ResidualBranches("ff"),
        });
        act.Should().Throw<ArgumentException>().WithMessage("*twice*updated twice*");

        var distinct = model.named_parameters().Where(p => p.name != "head.weight").Select(p => p.parameter).ToList();
        using var optimizer = optim.AdamW(distinct);
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16) with
        {
            Declarations = ModelDeclarations.None.ResidualBranches("ff"),
        });
        plan["embed.weight"].SharedWith.Should().Equal("head.weight");
        plan.Rows.Should().NotContain(r => r.Name == "head.weight");
        plan["layers.1.ff.down.weight"].ResidualBranch.Should().Be("layers.1.ff");
    }
}
