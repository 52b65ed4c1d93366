using CompleteP.Tests.Adapter.Fuzz;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// The bugs the module-tree fuzzer (<see cref="ModuleTreeFuzzTests"/>) found, each pinned on the smallest tree that shows
/// it. Every test checks the forward against Table 1's model written by hand (<see cref="FuzzRun"/>), so each fails
/// without its fix: a silent wrong answer, or a valid tree refused.
/// </summary>
public class ModuleTreeFuzzRegressionTests
{
    private static TreeSpec Gpt(int seed = 1) => TreeSpecs.Gpt(seed);

    private static BranchSpec Mlp => TreeSpecs.Mlp;

    private static ParameterizationPlan Plan(TreeSpec s)
    {
        manual_seed(s.Seed);
        using var model = new FuzzModel(s);
        using var ids = randint(0, s.Vocab, [2, s.Length], dtype: ScalarType.Int64);
        using var optimizer = optim.AdamW(FuzzRun.NamedParameters(model).Where(p => !(s.Readout == ReadoutKind.TiedHeadTakesTable && p.Key == s.ReadoutName + ".weight"))
            .Select(p => p.Value).Distinct().ToList());
        return Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = Parameterization.Parse(s.Parameterization),
            BaseShape = new ModelShape(s.Width / 2, s.Depth + 1),
            HeadDim = s.HeadDim,
            Hyperparameters = new BaseHyperparameters(1e-3, 0.02, 0.1, modules: [.. s.ResidualFactors.Select(f => new ModuleHyperparameter(f.Pattern, HyperparameterField.ResidualMultiplier, f.Factor))]),
            RuleOptions = new RuleOptions { InputMultiplier = s.AlphaIn, OutputMultiplier = s.AlphaOut },
            Multipliers = s.Mode,
            Declarations = s.DeclareLogitsInForward ? ModelDeclarations.None.OutputMultiplierAppliedInForward()
                : s.DeclareLogitsFromTable ? ModelDeclarations.None.LogitsFromEmbeddingTable() : ModelDeclarations.None,
            SampleForward = s.SampleForward ? () => model.call(ids) : null,
        });
    }

    private static void ShouldBeTable1(TreeSpec s)
    {
        var (outcome, detail) = FuzzRun.Run(s);
        outcome.Should().Be(FuzzOutcome.Parameterized, detail);
    }

    [Fact]
    public void The_fuzz_harness_passes_a_plain_gpt()
    {
        ShouldBeTable1(Gpt());
        ShouldBeTable1(Gpt() with { Mode = MultiplierMode.Hooks, AlphaIn = 1.5, AlphaOut = 3 });
    }

    [Fact]
    public void A_tied_readout_whose_logit_multiplier_is_1_still_undoes_alpha_in_folded_into_the_table()
    {
        // muP from width 4 to 8 with alpha_out = 2: the logit multiplier alpha_out / m_N is exactly 1, so nothing was placed,
        // and the logits kept the alpha_in = 1.5 folded into the shared table. 1 / alpha_in goes into the final norm...
        var s = Gpt() with { Parameterization = "mup", AlphaIn = 1.5, AlphaOut = 2, Readout = ReadoutKind.TiedTableTakesHead };
        ShouldBeTable1(s);
        var plan = Plan(s);
        plan.Hooks.Should().BeEmpty();
        plan["ln_f.weight"].Folded!.Value.Value.Should().BeApproximately(1 / 1.5, 1e-15);

        // ... or, without one, into a hook on the readout.
        var noNorm = s with { FinalNorm = false };
        ShouldBeTable1(noNorm);
        var hook = Plan(noNorm).Hooks.Should().ContainSingle().Which;
        hook.ModuleName.Should().Be("lm_head");
        hook.Value.Value.Should().BeApproximately(1 / 1.5, 1e-15);
    }

    [Fact]
    public void Logits_declared_from_the_table_undo_alpha_in_where_the_logit_multiplier_is_1()
    {
        // .LogitsFromEmbeddingTable() with alpha_out / m_N = 1 and alpha_in = 1.5: the same gate skipped the fold into the final norm.
        var s = Gpt() with { Parameterization = "mup", AlphaIn = 1.5, AlphaOut = 2, Readout = ReadoutKind.Matmul, DeclareLogitsFromTable = true };
        ShouldBeTable1(s);
        Plan(s)["ln_f.weight"].Folded!.Value.Value.Should().BeApproximately(1 / 1.5, 1e-15);
    }

    [Fact]
    public void Logits_computed_from_the_table_get_alpha_in_through_hooks_not_folded_into_it()
    {
        // .OutputMultiplierAppliedInForward() with alpha_in = 1.5: the table carried alpha_in, so the logits x @ wte.weight.T did too.
        var s = Gpt() with { Readout = ReadoutKind.Matmul, DeclareLogitsInForward = true, AlphaIn = 1.5 };
        ShouldBeTable1(s);
        var plan = Plan(s);
        plan["wte.weight"].Folded.Should().BeNull();
        plan.Hooks.Select(h => (h.ModuleName, h.Kind)).Should().BeEquivalentTo([("wte", MultiplierKind.Embedding), ("wpe", MultiplierKind.Embedding)]);
    }

    [Fact]
    public void Logits_from_the_table_without_a_declaration_are_refused_rather_than_scaled_by_alpha_in()
    {
        // SP with alpha_out = 1 needs no logit multiplier, so nothing was refused, and alpha_in folded into the table scaled the logits.
        var s = Gpt() with { Parameterization = "sp", Readout = ReadoutKind.Matmul, AlphaIn = 1.5 };
        var act = () => Plan(s);
        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("no readout was found").And.Contain(".LogitsFromEmbeddingTable()")
            .And.Contain(".OutputMultiplierAppliedInForward()");
        FuzzRun.Run(s).Outcome.Should().Be(FuzzOutcome.Refused);
    }

    [Fact]
    public void Blocks_nested_in_stage_lists_are_the_blocks_inside_them()
    {
        // A ModuleList of ModuleLists: the two stage lists were taken as two blocks, their blocks as residual branches.
        var s = Gpt() with { Container = BlockContainer.Stages, Stages = 2, Depth = 4, ContainerName = "stages", Branches = [Mlp] };
        ShouldBeTable1(s);
        var plan = Plan(s);
        plan.Setup.Target.Depth.Should().Be(4);
        plan["stages.1.0.mlp.c_proj.weight"].ResidualBranch.Should().Be("stages.1.0.mlp");
        plan.Diagnostics.Should().Contain(d => d.Subject == "stages.*.*" && d.Message.Contains("containers"));
    }

    [Fact]
    public void A_single_block_without_a_container_is_refused_instead_of_read_as_an_mlp()
    {
        // muP allows width-only models; block_0 alone was read as one, its LayerNorms as hidden norms and the final norm too.
        var s = Gpt() with { Parameterization = "mup", Container = BlockContainer.Siblings, ContainerName = "block_", Depth = 1 };
        var act = () => Plan(s);
        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("'block_0' (FuzzBlock) holds a norm and Linears like a residual block")
            .And.Contain(".Blocks(\"block_*\")");
        ShouldBeTable1(s with { DeclareBlocks = true });
    }

    [Fact]
    public void A_raw_parameter_on_the_root_does_not_make_the_root_an_input_layer()
    {
        // pos_emb [4 x 4] on the root of a width-4 model: its first dimension equals the width, so the root was taken as
        // an input layer, and every root parameter (here logit_gain) got alpha_in folded in.
        var s = Gpt() with { Width = 4, Position = 2, RootGain = true, DeclareGain = true, AlphaIn = 1.5 };
        ShouldBeTable1(s);
    }

    [Fact]
    public void Hooks_find_a_tied_table_whose_first_name_is_the_readouts()
    {
        // Hooks mode, the head registered first: the table's first name is lm_head.weight, and it was called "held by no input module".
        ShouldBeTable1(Gpt() with { Mode = MultiplierMode.Hooks, ReadoutFirst = true, Readout = ReadoutKind.TiedTableTakesHead, AlphaIn = 1.5, AlphaOut = 2 });
    }

    [Fact]
    public void An_optimizer_holding_both_wrappers_of_a_tied_table_is_refused_naming_the_tensor()
    {
        var s = Gpt() with { Readout = ReadoutKind.TiedHeadTakesTable };
        manual_seed(1);
        using var model = new FuzzModel(s);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            BaseShape = new ModelShape(4, 3), HeadDim = 2, Hyperparameters = new BaseHyperparameters(1e-3, 0.02),
        });
        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("'wte.weight' (= lm_head.weight)").And.Contain("twice");
    }

    private static BranchSpec Moe(int experts) => Mlp with { Experts = experts, Fused = true, Linears = ["w1", "w2", "w3"], Output = "w2", Bias = false };

    [Fact]
    public void The_fuzz_harness_passes_modern_decoder_styles()
    {
        // Each generator of issue 13 on the plain tree: the plan's forward is Table 1's, folded and hooked.
        var qk = TreeSpecs.Attention with { QkNorm = QkNormKind.PerHead };
        var olmo = Gpt() with
        {
            Style = BlockStyle.PostNorm, Branches = [TreeSpecs.Attention with { NormName = "", PostNormName = "post_attention_layernorm" }, Mlp with { NormName = "", PostNormName = "post_feedforward_layernorm" }],
        };
        var gemma = Gpt() with
        {
            Style = BlockStyle.Sandwich, Branches = [qk with { NormName = "input_layernorm", PostNormName = "post_attention_layernorm" },
                Mlp with { NormName = "pre_feedforward_layernorm", PostNormName = "post_feedforward_layernorm" }],
        };
        var trees = new[]
        {
            Gpt() with { Branches = [qk, Mlp] },
            Gpt() with { Branches = [TreeSpecs.Attention with { QkNorm = QkNormKind.WholeWidth }, Mlp], Norm = NormKind.RmsNorm },
            olmo,
            olmo with { DeclareOutputNorms = true, Branches = [olmo.Branches[0]] },
            gemma,
            Gpt() with { Style = BlockStyle.Parallel, Branches = [TreeSpecs.Attention, Mlp with { NormName = "ln_1" }] },
            Gpt() with { Branches = [TreeSpecs.Attention, Moe(3)], Width = 8 },
            Gpt() with { Branches = [TreeSpecs.Attention, Moe(3) with { SharedExpert = true }], Width = 8, DeclareOutputs = true },
            gemma with { Branches = [gemma.Branches[0], Moe(2) with { NormName = "pre_feedforward_layernorm", PostNormName = "post_feedforward_layernorm" }] },
        };
        foreach (var tree in trees)
        {
            ShouldBeTable1(tree);
            ShouldBeTable1(tree with { Mode = MultiplierMode.Hooks, AlphaIn = 1.5 });
        }

        var plan = Plan(gemma);
        plan["h.0.attn.q_norm.weight"].Rule.Role.Should().Be(TensorRole.QkNorm);
        plan["h.0.post_feedforward_layernorm.weight"].Folded!.Kind.Should().Be(MultiplierKind.Residual);
        plan["h.0.mlp.c_proj.weight"].Folded.Should().BeNull();
    }

    [Fact]
    public void A_block_registered_in_any_order_gets_the_plan_of_the_default_order()
    {
        // FuzzRun re-plans a permuted tree in the default order and compares the rows by name; here the reverse orders.
        var s = Gpt() with
        {
            Branches = [TreeSpecs.Attention with { QkNorm = QkNormKind.PerHead, Order = ["k_norm", "c_proj", "q_norm", "c_attn"] }, Moe(3) with { Order = ["experts", "gate"] }],
            BlockOrder = ["mlp", "ln_2", "attn", "ln_1"],
        };
        s.Permuted.Should().BeTrue();
        ShouldBeTable1(s);
        Plan(s).Rows.Select(r => (r.Name, r.Rule, r.Folded)).Should().BeEquivalentTo(Plan(s.Unpermuted).Rows.Select(r => (r.Name, r.Rule, r.Folded)));
    }

    [Fact] // found by the fuzzer (issue 13): a router width -> E beside E experts where E equals the width was taken as a hidden weight
    public void A_router_with_as_many_experts_as_the_width_is_a_block_readout()
    {
        // Found by the MoE generator (76 of seeds 0-4999: 45, 60, 70, 114, ...): 'h.0.mlp.gate.weight' is
        // HiddenWeight, expected BlockReadout, so no m_N^-1 on its logits and the hidden-weight init and learning rate.
        // ParameterClassifier.BlockModuleRoles looks for experts only beside a Linear whose fan-out is not the width.
        ShouldBeTable1(Gpt() with { Width = 4, Branches = [TreeSpecs.Attention, Moe(4)] });
    }

    [Fact] // found by the fuzzer (issue 13): a single block registered on its own holding an MoE
    public void A_single_block_holding_an_moe_is_refused_naming_the_blocks_declaration()
    {
        // Found by the MoE generator (28 of seeds 0-4999: 50, 359, 392, 485, ...): without a container or a run of siblings,
        // BlockFinder took 'block_0.mlp.experts' as the block container, and the refusal asked for .ResidualBranches(...)
        // instead of .Blocks("block_*"). Experts with their router beside them and no norm are not blocks.
        var s = Gpt() with { Container = BlockContainer.Siblings, ContainerName = "block_", Depth = 1, Branches = [TreeSpecs.Attention, Moe(3)] };
        FuzzRun.Run(s).Outcome.Should().Be(FuzzOutcome.Refused);
        var act = () => Plan(s);
        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain(".Blocks(\"block_*\")");
        ShouldBeTable1(s with { DeclareBlocks = true }); // the declaration the refusal names gives Table 1's plan
    }

    [Fact]
    public void The_fuzz_harness_passes_per_branch_residual_factors()
    {
        // The factors the generator draws (PATTERN.res=FACTOR), on fixed trees: the plan's forward is Table 1's with each
        // branch x its own factors x m_L^-alpha, folded into its writers (even under muP, whose m_L^-alpha is 1) or hooked.
        var moe = Gpt() with { Branches = [TreeSpecs.Attention, Moe(3) with { SharedExpert = true }], Width = 8 };
        var olmo = Gpt() with
        {
            Style = BlockStyle.PostNorm, Branches = [TreeSpecs.Attention with { NormName = "", PostNormName = "post_attention_layernorm" }, Mlp with { NormName = "", PostNormName = "post_feedforward_layernorm" }],
        };
        var trees = new[]
        {
            Gpt() with { ResidualFactors = [new("*.attn", 0.5)] },
            Gpt() with { Parameterization = "mup", ResidualFactors = [new("h.1.*", 3), new("*.mlp", 2)] },
            Gpt() with { Parameterization = "sp", ResidualFactors = [new("*?lp", 2)] },
            moe with { Parameterization = "mup", ResidualFactors = [new("*.mlp", 0.5)] },
            olmo with { ResidualFactors = [new("h.0.attn", 3)] },
        };
        foreach (var tree in trees)
        {
            ShouldBeTable1(tree);
            ShouldBeTable1(tree with { Mode = MultiplierMode.Hooks, AlphaIn = 1.5 });
        }

        // CompleteP from depth 2 to 1: m_L^-1 = 2, so a branch with factor 0.5 has a multiplier of exactly 1 and carries nothing.
        var one = Gpt() with { Depth = 1, ResidualFactors = [new("*.attn", 0.5)] };
        ShouldBeTable1(one);
        var folded = Plan(one);
        folded["h.0.attn.c_proj.weight"].Folded.Should().BeNull();
        folded["h.0.mlp.c_proj.weight"].Folded!.Value.Value.Should().Be(2);
        Plan(one with { Mode = MultiplierMode.Hooks }).Hooks.Select(h => h.ModuleName).Should().BeEquivalentTo("h.0.mlp", "lm_head");
    }

    [Fact]
    public void Residual_factors_that_select_no_branch_or_a_branch_without_writers_are_refused()
    {
        // A pattern naming a norm or an output projection selects no residual branch; under muP a factor on an attention whose
        // output projection cannot be told from q, k, v (named 'mix') needs a fold that has nowhere to go.
        foreach (var pattern in new[] { "*.ln_1", "*.attn.c_proj" })
        {
            var (refused, message) = FuzzRun.Run(Gpt() with { ResidualFactors = [new(pattern, 2)] });
            refused.Should().Be(FuzzOutcome.Refused, message);
            message.Should().Contain($"'{pattern}.res=2' selects no residual branch");
        }

        var mix = Gpt() with { Parameterization = "mup", Branches = [TreeSpecs.Attention with { Fused = false, Linears = ["query", "key", "value", "mix"], Output = "mix" }, Mlp] };
        ShouldBeTable1(mix);
        ShouldBeTable1(mix with { ResidualFactors = [new("*.mlp", 2)] });
        var (outcome, detail) = FuzzRun.Run(mix with { ResidualFactors = [new("*.attn", 2)] });
        outcome.Should().Be(FuzzOutcome.Refused);
        detail.Should().Contain("OutputProjections");
        ShouldBeTable1(mix with { ResidualFactors = [new("*.attn", 2)], DeclareOutputs = true });
    }
}
