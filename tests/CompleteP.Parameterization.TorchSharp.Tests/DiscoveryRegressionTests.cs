using CompleteP.CoordinateChecks;
using CompleteP.Tests.Adapter.Models;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>What went wrong when the library met code nobody here wrote (issue 7, items 3 to 11), each pinned by a test.</summary>
public class DiscoveryRegressionTests
{
    private static ParameterizeOptions CompleteP(int baseWidth = 32, int baseDepth = 1) => Options(Parameterization.CompleteP, baseWidth, baseDepth, 16);

    [Fact]
    public void Blocks_naming_a_module_without_children_is_a_classification_error_not_a_crash()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompleteP() with { Declarations = ModelDeclarations.None.Blocks("wte") });

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("'wte' (Embedding), which has no child modules").And.Contain("\"transformer.h\"").And.Contain("\"block_*\"");
    }

    [Fact]
    public void A_parameter_on_the_root_gets_a_declaration_that_works()
    {
        using var model = new RootGainModel(vocab: 40, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var e = ((Action)(() => Parameterize.Apply(model, optimizer, CompleteP(16)))).Should().Throw<ParameterClassificationException>().Which;
        var problem = e.Problems.Should().ContainSingle().Which;
        problem.Should().Contain("'gain' [32] of '(root)'").And.Contain(".Role(\"gain\", TensorRole.Embedding)").And.NotContain(".Readout(\"\")");

        var plan = Parameterize.Apply(model, optimizer, CompleteP(16) with { Declarations = ModelDeclarations.None.Role("gain", TensorRole.FinalNorm) });
        plan["gain"].Rule.Role.Should().Be(TensorRole.FinalNorm);
    }

    [Fact]
    public void A_readout_declared_on_an_embedding_is_refused()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2, tie: true);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompleteP() with { Declarations = ModelDeclarations.None.Readout("wte") });

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().Contain(p =>
            p.Contains(".Readout(\"wte\") names 'wte' (Embedding), which is not a Linear") && p.Contains("name the Linear that holds the tied weight"));
    }

    [Fact]
    public void The_output_projection_is_the_one_that_writes_the_branch_even_when_registered_first()
    {
        using var model = new LlamaLike(vocab: 40, width: 64, depth: 4);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.Standard, 64, 4, 16) with
        {
            RuleOptions = new RuleOptions { Gpt2OutputProjectionInit = true },
        });

        // GPT-2's SP init: sigma / sqrt(2L) on the Linears that write the residual stream, nowhere else.
        double scaled = 0.02 / Math.Sqrt(8);
        plan["model.layers.1.self_attn.o_proj.weight"].Rule.InitStd.Should().BeApproximately(scaled, 1e-15);
        plan["model.layers.1.mlp.down_proj.weight"].Rule.InitStd.Should().BeApproximately(scaled, 1e-15);
        foreach (var other in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj" })
        {
            plan[$"model.layers.1.{other}.weight"].Rule.InitStd.Should().Be(0.02, other);
        }
    }

    [Fact]
    public void The_attention_scale_is_stated_on_the_plan_without_a_logger()
    {
        using var model = new LlamaLike(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompleteP());

        plan.ScaledAttentionModules.Should().BeEmpty();
        plan.Diagnostics.Should().ContainSingle(d => d.Subject == "(attention)").Which.Message
            .Should().Contain("d_head is 16 at the base and at the target shape").And.Contain("implement IScaledAttention");
        plan.ToTable().Should().Contain("not set by the library");
    }

    [Fact]
    public void Declaring_only_some_branches_names_every_module_left_out_and_the_full_declaration()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompleteP() with { Declarations = ModelDeclarations.None.ResidualBranches("attn") });

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("'h.0.mlp' holds weights but is not among the declared residual branches (attn)").And.Contain(".ResidualBranches(\"attn\", \"mlp\")");
    }

    [Fact]
    public void Nested_branch_declarations_name_the_linear_that_writes_the_branch()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompleteP() with { Declarations = ModelDeclarations.None.ResidualBranches("attn.c_proj", "mlp") });

        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Select(r => r.Name).Should().BeEquivalentTo(
            ["h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias",
             "h.1.attn.c_proj.weight", "h.1.attn.c_proj.bias", "h.1.mlp.c_proj.weight", "h.1.mlp.c_proj.bias"]);
        plan["h.0.attn.c_attn.weight"].ResidualBranch.Should().BeNull("q/k/v lie outside the declared branch attn.c_proj");
    }

    [Fact]
    public void An_mlp_without_blocks_gets_width_only_mup_and_completep_is_refused_with_the_reason()
    {
        Sequential Mlp(int width) => nn.Sequential(("0", nn.Linear(48, width)), ("1", nn.ReLU()), ("2", nn.Linear(width, width)), ("3", nn.ReLU()), ("4", nn.Linear(width, 10)));
        using var model = Mlp(128);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 32, 1, 16));

        plan["0.weight"].Rule.Role.Should().Be(TensorRole.Embedding, "the input layer: its fan-in does not grow");
        plan["2.weight"].Rule.Role.Should().Be(TensorRole.HiddenWeight);
        plan["2.weight"].Rule.LearningRate.Should().BeApproximately(0.01 / 4, 1e-15);
        plan["4.weight"].Folded.Should().Be(new FoldedMultiplier(MultiplierKind.Output, plan.Multipliers.Output));
        plan.Multipliers.Output.Value.Should().Be(0.25);
        plan.Diagnostics.Should().Contain(d => d.Message.Contains("no residual blocks: a width-only network"));

        using var other = Mlp(128);
        using var otherOptimizer = optim.AdamW(other.parameters());
        ((Action)(() => Parameterize.Apply(other, otherOptimizer, Options(Parameterization.CompleteP, 32, 1, 16))))
            .Should().Throw<ParameterClassificationException>().WithMessage("*no residual blocks were found*no depth for CompleteP's depth rules*MuP or Standard*");
    }

    [Fact]
    public void Blocks_registered_without_a_container_are_found_by_their_index_and_can_be_declared_by_pattern()
    {
        using var model = new SiblingBlocksModel(vocab: 40, width: 32, depth: 3);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompleteP(16));
        plan.Setup.Target.Should().Be(new ModelShape(32, 3));
        plan["block_2.ff.down.weight"].Folded!.Kind.Should().Be(MultiplierKind.Residual);

        using var declared = new SiblingBlocksModel(vocab: 40, width: 32, depth: 3);
        using var declaredOptimizer = optim.AdamW(declared.parameters());
        Parameterize.Apply(declared, declaredOptimizer, CompleteP(16) with { Declarations = ModelDeclarations.None.Blocks("block_*") })
            .Setup.Target.Depth.Should().Be(3);
    }

    [Fact]
    public void A_matrix_buffer_that_is_not_a_mask_or_table_is_a_warning_on_the_plan()
    {
        using var model = new MatrixBufferModel(vocab: 40, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompleteP(16));

        plan.Diagnostics.Should().ContainSingle(d => d.Severity == DiagnosticSeverity.Warning).Which.Should().Match<PlanDiagnostic>(d =>
            d.Subject == "mixing" && d.Message.Contains("buffers are never trained; if it is a weight, make it a Parameter"));
        plan.ToTable().Should().Contain("warning: mixing:");
    }

    [Fact]
    public void A_tied_readout_is_folded_into_the_final_norm_so_no_hook_remains()
    {
        using var model = new ForwardHeadGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompleteP());

        plan.Hooks.Should().BeEmpty("a hook on a head called through .forward would never run");
        plan["ln_f.weight"].Folded.Should().Be(new FoldedMultiplier(MultiplierKind.Output, plan.Multipliers.Output));
        plan["ln_f.bias"].Folded!.Kind.Should().Be(MultiplierKind.Output);
        plan.Diagnostics.Should().Contain(d => d.Subject == "ln_f" && d.Message.Contains("readout 'head'") && d.Message.Contains("feeds only the readout"));
    }

    [Fact]
    public void Hooks_without_a_sample_forward_to_prove_them_are_refused()
    {
        // A hook is proven on SampleForward or not at all: checking it on the first forward would hang the check on the
        // model's own hook, which a model invoked with model.forward(x) skips as silently as the multiplier's.
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompleteP() with { Multipliers = MultiplierMode.Hooks });

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("forward hooks").And.Contain("Pass options.SampleForward").And.Contain("MultiplierMode.Fold");
        model.has_buffer(Parameterize.MarkerBufferName).Should().BeFalse("nothing changed");
        using var fresh = new CallGpt(vocab: 40, width: 64, depth: 2);
        using var freshOptimizer = optim.AdamW(fresh.parameters());
        var ids = Tokens(2, 8, 40, 1);
        Parameterize.Apply(fresh, freshOptimizer, CompleteP() with { Multipliers = MultiplierMode.Hooks, SampleForward = () => fresh.call(ids) })
            .Hooks.Should().NotBeEmpty("with the proof it is accepted");
    }

    [Fact]
    public void A_hook_that_a_forward_call_skips_is_refused_by_the_sample_forward()
    {
        using var model = new ForwardHeadGpt(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var ids = Tokens(2, 8, 40, 1);
        var act = () => Parameterize.Apply(model, optimizer, CompleteP() with { Multipliers = MultiplierMode.Hooks, SampleForward = () => model.call(ids) });

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("the multiplier hook on 'head'").And.Contain("did not fire on options.SampleForward");
        model.has_buffer(Parameterize.MarkerBufferName).Should().BeFalse("nothing changed");
    }

    [Fact]
    public void A_tied_readout_called_through_call_passes_the_sample_forward()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 2, tie: true);
        using var optimizer = optim.AdamW(model.parameters());
        var ids = Tokens(2, 8, 40, 1);
        var plan = Parameterize.Apply(model, optimizer, CompleteP() with { Multipliers = MultiplierMode.Hooks, SampleForward = () => model.call(ids) });
        plan.Hooks.Should().Contain(h => h.ModuleName == "lm_head");
        model.training.Should().BeTrue("the sample forward runs in eval mode and restores the training flags");
    }
}
