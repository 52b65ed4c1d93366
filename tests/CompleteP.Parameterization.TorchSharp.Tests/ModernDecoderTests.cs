using CompleteP.CoordinateChecks;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// The decoder styles people copy most today (Qwen3, LLaMA-3, OLMo-2, Gemma, GPT-J, Mixtral), written as their authors
/// write them (<see cref="ModernDecoder"/>). Each is planned with the effective function of Table 1's forward, written by
/// hand with the multipliers where the paper puts them (after a branch's last norm, on every expert, on the router's
/// logits): the same losses step for step whether the model calls its children with .forward or .call, folded or with
/// hooks. No plan depends on the order in which a block registers its children.
/// </summary>
public class ModernDecoderTests
{
    private const int Steps = 6;
    private static readonly Tensor Ids = Tokens(4, 12, 40, 5).DetachFromDisposeScope();
    private readonly ITestOutputHelper _output;

    public ModernDecoderTests(ITestOutputHelper output) => _output = output;

    private static ParameterizeOptions From32x1(Parameterization? p = null) =>
        Options(p ?? Parameterization.CompleteP, 32, 1, 16, lr: 0.02, std: 0.05, wd: 0.1, eps: 1e-8);

    private static Tensor Loss(ModernDecoder m, int step)
    {
        var logits = m.forward(Ids);
        return nn.functional.cross_entropy(logits.narrow(1, 0, 11).reshape(-1, logits.shape[^1]), Ids.narrow(1, 1, 11).reshape(-1));
    }

    private static ParameterizationPlan Plan(DecoderConfig config, ParameterizeOptions? options = null)
    {
        using var model = new ModernDecoder(config);
        using var optimizer = optim.AdamW(model.parameters());
        return Parameterize.Apply(model, optimizer, options ?? From32x1());
    }

    /// <summary>What a plan decided, row by row in name order (the rows themselves follow the model's registration order).</summary>
    private static string Decided(ParameterizationPlan plan) => string.Join("\n", plan.Rows.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r =>
        $"{r.Name} [{string.Join("x", r.Shape)}] {r.Rule.Role} bias={r.Rule.IsBias} init={r.Applied.InitValue:R} lr={r.Applied.LearningRate:R} wd={r.Applied.WeightDecay:R} eps={r.Applied.AdamEpsilon:R} folded={r.Folded} branch={r.ResidualBranch}"))
        + $"\n{plan.Multipliers}\nhooks: {string.Join("; ", plan.Hooks.OrderBy(h => h.ModuleName, StringComparer.Ordinal))}";

    public static TheoryData<DecoderStyle> Styles() => new(Enum.GetValues<DecoderStyle>());

    [Theory]
    [MemberData(nameof(Styles))]
    public void Every_style_trains_exactly_like_its_hand_written_forward_through_forward_and_call_folded_and_with_hooks(DecoderStyle style)
    {
        var options = From32x1();
        var reference = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var forward = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style)), Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);
        var call = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);
        var hooks = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Hooks, 0.5, Steps, ScalarType.Float64);

        _output.WriteLine($"{style}: reference losses {string.Join(", ", reference.Losses.Select(l => l.ToString("F5")))}");
        reference.Losses[^1].Should().BeLessThan(reference.Losses[0], "the reference trains");
        foreach (var (name, run) in new[] { ("folded, .forward", forward), ("folded, .call", call), ("hooks, .call", hooks) })
        {
            var (loss, weight, worst) = EquivalenceRuns.Difference(run, reference);
            _output.WriteLine($"  {name}: loss difference {loss:E2}, weights {weight:E2} ({worst})");
            loss.Should().BeLessThan(1e-11, $"{style} {name} must be Table 1's forward");
            weight.Should().BeLessThan(1e-9, $"{style} {name}");
        }

        forward.Plan.Should().Be(call.Plan, ".forward and .call give the same plan");
    }

    public static TheoryData<DecoderStyle, string> StylesAndParameterizations()
    {
        var data = new TheoryData<DecoderStyle, string>();
        foreach (var style in Enum.GetValues<DecoderStyle>())
        {
            data.Add(style, "completep");
            data.Add(style, "mup");
        }

        return data;
    }

    /// <summary>Per-branch residual multipliers for a style: the attention branch x0.5, the MLP (or MoE) branch x1.5, selected by the author's names.</summary>
    private static ParameterizeOptions WithBranchFactors(DecoderStyle style, Parameterization p)
    {
        var options = From32x1(p);
        var hp = options.Hyperparameters;
        string attention = style == DecoderStyle.GptJ ? "*.attn" : "*.self_attn";
        string mlp = style == DecoderStyle.Mixtral ? "layers.*.block_sparse_moe" : "layers.*.mlp";
        return options with
        {
            Hyperparameters = new BaseHyperparameters(hp.LearningRate, hp.InitStd, hp.WeightDecay, hp.AdamEpsilon, hp.Beta1, hp.Beta2,
                [ModuleHyperparameter.Parse($"{attention}.res=0.5"), ModuleHyperparameter.Parse($"{mlp}.res=1.5")]),
        };
    }

    [Theory]
    [MemberData(nameof(StylesAndParameterizations))]
    public void Per_branch_residual_multipliers_train_exactly_like_the_hand_written_forward_that_scales_each_branch(DecoderStyle style, string parameterization)
    {
        // The reference is the author's forward with each branch multiplied by hand: x + 0.5 * m_L^-alpha * attn(..) + 1.5 * m_L^-alpha * mlp(..),
        // the factors written here, not read from the plan. Under muP m_L^-alpha is 1 and the factors alone must still act.
        var p = parameterization == "mup" ? Parameterization.MuP : Parameterization.CompleteP;
        var options = WithBranchFactors(style, p);
        ModernDecoder ByHand()
        {
            var model = new ModernDecoder(new DecoderConfig(style, Calls: true));
            model.Scales.AttentionBranch = 0.5;
            model.Scales.MlpBranch = 1.5;
            return model;
        }

        var reference = EquivalenceRuns.Train(ByHand, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var unscaled = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var forward = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style)), Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);
        var call = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);
        var hooks = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(style, Calls: true)), Loss, options, Way.Hooks, 0.5, Steps, ScalarType.Float64);

        EquivalenceRuns.Difference(unscaled, reference).Loss.Should().BeGreaterThan(1e-4, "the teeth: without the branch factors the function differs");
        foreach (var (name, run) in new[] { ("folded, .forward", forward), ("folded, .call", call), ("hooks, .call", hooks) })
        {
            var (loss, weight, worst) = EquivalenceRuns.Difference(run, reference);
            _output.WriteLine($"{style} {parameterization} {name}: loss difference {loss:E2}, weights {weight:E2} ({worst})");
            loss.Should().BeLessThan(1e-11, $"{style} {parameterization} {name}");
            weight.Should().BeLessThan(1e-9, $"{style} {parameterization} {name}");
        }

        // Where each branch's multiplier went: 0.5 and 1.5 times m_L^-alpha (1/3 under CompleteP from depth 1 to 3, 1 under muP).
        double mL = p == Parameterization.CompleteP ? 1.0 / 3 : 1.0;
        // (The attention side: its output projection, or OLMo-2's and Gemma's post_attention_layernorm.)
        var folded = call.Plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).ToList();
        static bool AttentionSide(PlanRow r) => r.Name.Contains("attn", StringComparison.Ordinal) || r.Name.Contains("post_attention", StringComparison.Ordinal);
        var attentionValues = folded.Where(AttentionSide).Select(r => r.Folded!.Value.Value).Distinct();
        var mlpValues = folded.Where(r => !AttentionSide(r)).Select(r => r.Folded!.Value.Value).Distinct();
        attentionValues.Should().ContainSingle().Which.Should().BeApproximately(0.5 * mL, 1e-15);
        mlpValues.Should().ContainSingle().Which.Should().BeApproximately(1.5 * mL, 1e-15);
        hooks.Plan.Hooks.Where(h => h.Kind == MultiplierKind.Residual).Select(h => h.Value.Value).Distinct().Should().BeEquivalentTo(new[] { 0.5 * mL, 1.5 * mL });
    }

    [Fact]
    public void A_branch_factor_that_matches_no_branch_is_refused_naming_the_branches()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Llama3));
        using var optimizer = optim.AdamW(model.parameters());
        var hp = From32x1().Hyperparameters;
        var options = From32x1() with
        {
            // o_proj is the attention's output projection, not a branch: a residual multiplier selects branch modules.
            Hyperparameters = new BaseHyperparameters(hp.LearningRate, hp.InitStd, hp.WeightDecay, hp.AdamEpsilon, modules: [ModuleHyperparameter.Parse("*.o_proj.res=0.5")]),
        };

        var e = ((Action)(() => Parameterize.Apply(model, optimizer, options))).Should().Throw<ArgumentException>().Which;
        e.ParamName.Should().Be("options");
        e.Message.Should().Contain("'*.o_proj.res=0.5' selects no residual branch of the model").And.Contain("'layers.0.self_attn'").And.Contain("'layers.0.mlp'");
    }

    [Fact]
    public void A_wrong_placement_is_caught_by_the_same_comparison()
    {
        // The test's teeth: OLMo-2's residual multiplier folded before the post-norm (what Apply did before) is not the
        // hand-written forward. Declaring the post-norms away (.BranchOutputNorms on other norms is refused, so the check
        // goes through a model whose reference puts the multiplier before the norm).
        var options = From32x1();
        var reference = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(DecoderStyle.Olmo2, Calls: true)), Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var beforeNorm = EquivalenceRuns.Train(() => new ModernDecoder(new DecoderConfig(DecoderStyle.Olmo2, Calls: true)), Loss,
            options with { Declarations = ModelDeclarations.None.BranchOutputNorms("post_attention_layernorm", "post_feedforward_layernorm") }, Way.Fold, 0.5, Steps, ScalarType.Float64,
            afterApply: (m, plan) =>
            {
                // Undo the norm fold and fold into o_proj / down_proj instead, as a plan that ignores the norm would.
                using var _ = no_grad();
                foreach (var row in plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual))
                {
                    m.get_parameter(row.Name)!.div_(row.Folded!.Value.Value);
                }

                foreach (var p in m.named_parameters().Where(p => p.name.EndsWith("o_proj.weight", StringComparison.Ordinal) || p.name.EndsWith("down_proj.weight", StringComparison.Ordinal)))
                {
                    p.parameter.mul_(plan.Multipliers.Residual.Value);
                }
            });

        EquivalenceRuns.Difference(beforeNorm, reference).Loss.Should().BeGreaterThan(1e-3, "a multiplier before a norm is undone by it");
    }

    [Fact]
    public void Qwen3_reads_the_width_from_the_residual_stream_not_from_its_qk_norm_and_gives_qk_norm_its_own_rule()
    {
        var plan = Plan(new DecoderConfig(DecoderStyle.Qwen3));

        plan.Setup.Scaling.WidthMultiplier.Should().Be(2.0, "width 64 from base 32: the QK-norm over d_head 16, registered first, is not the width");
        var q = plan["layers.0.self_attn.q_norm.weight"];
        q.Rule.Role.Should().Be(TensorRole.QkNorm);
        // Base eta 0.02, eps 1e-8; m_N = 2, m_L = 3, alpha = 1: LR eta * m_L^0, epsilon eps * m_L^-1, no width factor.
        q.Rule.LearningRate.Should().BeApproximately(0.02, 1e-15);
        q.Rule.AdamEpsilon.Should().BeApproximately(1e-8 / 3, 1e-22);
        q.Rule.WeightDecay.Should().Be(0);
        var blockNorm = plan["layers.0.input_layernorm.weight"];
        blockNorm.Rule.Role.Should().Be(TensorRole.HiddenNorm);
        blockNorm.Rule.AdamEpsilon.Should().BeApproximately(1e-8 / 2 / 3, 1e-22, "a block norm's epsilon keeps Table 1's m_N^-1");
        plan.Diagnostics.Should().Contain(d => d.Message.Contains("QK-norm"));
        // The readout gets 1/m_N = 1/2 and the hidden weights eta / m_N.
        plan["lm_head.weight"].Folded!.Value.Value.Should().Be(0.5);
        plan["layers.0.self_attn.q_proj.weight"].Rule.LearningRate.Should().BeApproximately(0.01, 1e-15);
    }

    [Fact]
    public void No_plan_depends_on_the_order_in_which_a_block_or_the_model_registers_its_children()
    {
        static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1 ? [items]
            : items.SelectMany(x => Permutations(items.Where(y => y != x).ToArray()).Select(rest => new[] { x }.Concat(rest).ToArray()));
        foreach (var style in new[] { DecoderStyle.Qwen3, DecoderStyle.Olmo2, DecoderStyle.Mixtral })
        {
            var reference = Decided(Plan(new DecoderConfig(style, Depth: 2)));
            reference.Should().Contain("self_attn.o_proj.weight");
            foreach (var order in Permutations([0, 1, 2, 3]))
            {
                Decided(Plan(new DecoderConfig(style, Depth: 2, BlockOrder: order))).Should().Be(reference, $"{style} with its block's children in the order {string.Join(",", order)}");
            }
        }

        var qwen = Decided(Plan(new DecoderConfig(DecoderStyle.Qwen3, Depth: 2)));
        foreach (var order in Permutations([0, 1, 2, 3]))
        {
            Decided(Plan(new DecoderConfig(DecoderStyle.Qwen3, Depth: 2, TopOrder: order))).Should().Be(qwen, $"top order {string.Join(",", order)}");
        }

        var gemma = Decided(Plan(new DecoderConfig(DecoderStyle.Gemma, Depth: 2)));
        foreach (var order in Permutations([0, 1, 2, 3, 4, 5]).Where((_, i) => i % 7 == 0))
        {
            Decided(Plan(new DecoderConfig(DecoderStyle.Gemma, Depth: 2, BlockOrder: order))).Should().Be(gemma, $"Gemma in the order {string.Join(",", order)}");
        }
    }

    [Theory]
    [InlineData(DecoderStyle.Olmo2, new[] { "post_attention_layernorm", "post_feedforward_layernorm" })]
    [InlineData(DecoderStyle.Gemma, new[] { "post_attention_layernorm", "post_feedforward_layernorm" })]
    public void A_norm_on_a_branch_output_carries_the_residual_multiplier_in_its_gain(DecoderStyle style, string[] postNorms)
    {
        var plan = Plan(new DecoderConfig(style));

        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Select(r => r.Name).Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => postNorms.Select(n => $"layers.{i}.{n}.weight")));
        var gain = plan[$"layers.0.{postNorms[0]}.weight"];
        gain.Rule.Role.Should().Be(TensorRole.HiddenNorm);
        gain.Applied.InitValue.Should().BeApproximately(1.0 / 3, 1e-15, "the gain starts at m_L^-1 = 1/3: the norm's output, scaled, is what the branch adds");
        gain.Applied.LearningRate.Should().BeApproximately(0.02 / 3, 1e-15, "Table 1's hidden-norm LR eta, folded: times m_L^-1");
        plan.Diagnostics.Should().Contain(d => d.Message.Contains("norms on the branch outputs"));
    }

    [Fact]
    public void Mixtral_folds_the_residual_multiplier_into_every_expert_and_gives_the_router_the_output_like_rule()
    {
        var plan = Plan(new DecoderConfig(DecoderStyle.Mixtral));

        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual && r.Name.Contains("block_sparse_moe")).Select(r => r.Name).Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(0, 4).Select(e => $"layers.{i}.block_sparse_moe.experts.{e}.w2.weight")));
        var router = plan["layers.0.block_sparse_moe.gate.weight"];
        router.Rule.Role.Should().Be(TensorRole.BlockReadout);
        router.Rule.InitValue.Should().Be(0.05, "init sigma, as the readout: not sigma * m_N^-1/2");
        router.Rule.LearningRate.Should().BeApproximately(0.02, 1e-15, "eta * m_L^(alpha-1): no width factor before folding");
        router.Folded!.Kind.Should().Be(MultiplierKind.BlockReadout);
        router.Folded.Value.Value.Should().Be(0.5, "its logits x m_N^-1");
        router.Applied.InitValue.Should().BeApproximately(0.025, 1e-15);
    }

    [Fact]
    public void A_refusal_never_points_at_a_fix_that_covers_one_expert()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Mixtral));
        using var optimizer = optim.AdamW(model.parameters());
        var one = From32x1() with { Declarations = ModelDeclarations.None.OutputProjections("self_attn.o_proj", "block_sparse_moe.experts.3.w2") };

        var e = ((Action)(() => Parameterize.Apply(model, optimizer, one))).Should().Throw<ParameterClassificationException>().Which;
        _output.WriteLine(e.Message);
        e.Message.Should().Contain("leave out block_sparse_moe.experts.0.w2").And.Contain(".OutputProjections(\"block_sparse_moe.experts.*.w2\"");

        var all = From32x1() with { Declarations = ModelDeclarations.None.OutputProjections("self_attn.o_proj", "block_sparse_moe.experts.*.w2") };
        var plan = Parameterize.Apply(model, optimizer, all);
        plan.Rows.Count(r => r.Folded?.Kind == MultiplierKind.Residual).Should().Be(3 * 5);
    }

    [Fact]
    public void Declaring_the_router_as_a_branch_is_refused_because_it_does_not_write_the_width()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Mixtral));
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, From32x1() with { Declarations = ModelDeclarations.None.ResidualBranches("self_attn", "block_sparse_moe.gate") });

        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("Linear 64 -> 4 that does not write the width 64");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_gemma_norm_computed_with_one_plus_weight_is_refused_by_name_and_left_unchanged(bool calls)
    {
        // Gemma's own RMSNorm multiplies by (1 + weight), the weight at 0: Table 1's gain init 1 would double it and a folded
        // c would act as 1 + c. Every such norm (block norms, QK-norms, the final norm) is named; nothing is changed.
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Gemma, Depth: 2, Calls: calls, OffsetGainNorms: true));
        using var optimizer = optim.AdamW(model.parameters());
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var e = ((Action)(() => Parameterize.Apply(model, optimizer, From32x1()))).Should().Throw<ParameterClassificationException>().Which;

        _output.WriteLine(e.Message);
        var named = new[] { "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm", "self_attn.q_norm", "self_attn.k_norm" }
            .SelectMany(n => new[] { $"layers.0.{n}", $"layers.1.{n}" }).Append("norm");
        foreach (var name in named)
        {
            e.Problems.Should().ContainSingle(p => p.StartsWith($"'{name}' (OffsetGainRmsNorm) computes its output with (1 + weight)", StringComparison.Ordinal), name);
        }

        e.Problems.Should().HaveCount(13).And.AllSatisfy(p => p.Should().Contain("weight * x_hat with the weight initialized to 1"));
        foreach (var (name, tensor) in model.state_dict())
        {
            tensor.eq(before[name]).all().item<bool>().Should().BeTrue($"{name} is restored exactly after the probe");
        }

        // The rewrite the refusal names: weight * x_hat with each norm weight + 1 is the same function, and Apply plans it.
        using var rewritten = new ModernDecoder(new DecoderConfig(DecoderStyle.Gemma, Depth: 2, Calls: calls));
        using (no_grad())
        {
            foreach (var (name, tensor) in rewritten.state_dict())
            {
                tensor.copy_(name.Contains("norm", StringComparison.Ordinal) ? before[name] + 1 : before[name]);
            }
        }

        rewritten.forward(Ids).allclose(model.forward(Ids), rtol: 1e-6, atol: 1e-6).Should().BeTrue("the rewritten norms compute what Gemma's do");
        using var rewrittenOptimizer = optim.AdamW(rewritten.parameters());
        Parameterize.Apply(rewritten, rewrittenOptimizer, From32x1()).Rows.Where(r => r.Name.Contains("norm", StringComparison.Ordinal))
            .Should().HaveCount(13).And.AllSatisfy(r => r.Rule.Role.Should().BeOneOf(TensorRole.HiddenNorm, TensorRole.QkNorm, TensorRole.FinalNorm));
    }

    [Fact]
    public void A_norm_that_multiplies_by_its_weight_is_not_taken_for_a_one_plus_weight_norm_even_at_a_zero_gain()
    {
        // The probe sets the weight to 0 itself: a weight * x_hat norm outputs 0 then, whatever its weight was.
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Gemma, Depth: 2));
        using (no_grad())
        {
            model.get_parameter("layers.0.input_layernorm.weight")!.zero_();
        }

        using var optimizer = optim.AdamW(model.parameters());
        Parameterize.Apply(model, optimizer, From32x1()).Rows.Should().Contain(r => r.Name == "layers.0.input_layernorm.weight" && r.Rule.Role == TensorRole.HiddenNorm);
    }

    [Fact]
    public void Post_norms_whose_names_do_not_say_so_are_found_by_probing_the_block_and_refused_until_declared()
    {
        var options = From32x1();
        using (var model = new QuietPostNormDecoder())
        using (var optimizer = optim.AdamW(model.parameters()))
        {
            var act = () => Parameterize.Apply(model, optimizer, options);
            act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle(p =>
                p.Contains("scaling the output projection(s) of branch 'h.0.attn' (o_proj) by 2 leaves the output of 'h.0' unchanged") && p.Contains(".BranchOutputNorms(...)"));
        }

        var declared = options with { Declarations = ModelDeclarations.None.BranchOutputNorms("norm1", "norm2") };
        Tensor QuietLoss(QuietPostNormDecoder m, int step) => nn.functional.cross_entropy(m.forward(Ids).narrow(1, 0, 11).reshape(-1, 40), Ids.narrow(1, 1, 11).reshape(-1));
        var reference = EquivalenceRuns.Train(() => new QuietPostNormDecoder(), QuietLoss, declared, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(() => new QuietPostNormDecoder(), QuietLoss, declared, Way.Fold, 0.5, Steps, ScalarType.Float64);
        folded.Plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Select(r => r.Name).Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => new[] { $"h.{i}.norm1.weight", $"h.{i}.norm2.weight" }));
        EquivalenceRuns.Difference(folded, reference).Loss.Should().BeLessThan(1e-11);
    }

    [Fact]
    public void A_norm_declared_as_an_output_projection_is_refused_with_the_declaration_that_is_right()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Olmo2));
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, From32x1() with { Declarations = ModelDeclarations.None.OutputProjections("post_attention_layernorm", "post_feedforward_layernorm") });

        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("in no residual branch").And.Contain(".BranchOutputNorms(...)");
    }

    [Fact]
    public void A_wrong_target_shape_names_the_width_source_and_the_declaration_that_fixes_it()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Qwen3));
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, From32x1() with { TargetShape = new ModelShape(128, 3) });

        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("block norms 'input_layernorm', 'post_attention_layernorm'").And.Contain(".Width(128)");
    }

    [Fact]
    public void The_base_model_reads_its_width_the_same_way_so_no_multiplier_is_dropped()
    {
        using var model = new ModernDecoder(new DecoderConfig(DecoderStyle.Qwen3));
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, From32x1() with { BaseShape = null, BaseModel = () => new ModernDecoder(new DecoderConfig(DecoderStyle.Qwen3, Width: 32, Depth: 1)) });

        plan.Setup.BaseShape.Should().Be(new ModelShape(32, 1));
        plan["lm_head.weight"].Folded!.Value.Value.Should().Be(0.5);
    }

    [Fact]
    public void Non_persistent_buffers_are_seen_and_a_weight_kept_in_one_is_refused()
    {
        var plan = Plan(new DecoderConfig(DecoderStyle.Qwen3));
        plan.Diagnostics.ToList().ForEach(d => _output.WriteLine(d.ToString()));
        plan.Diagnostics.Should().Contain(d => d.Subject == "layers.0.self_attn.rope_cos" && d.Severity == DiagnosticSeverity.Info);

        using var hidden = new NonPersistentWeightModel();
        using var optimizer = optim.AdamW(hidden.parameters());
        var act = () => Parameterize.Apply(hidden, optimizer, Options(Parameterization.MuP, 16, 2, 16));
        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("'layers.0.up' (HiddenLinear) keeps its weight as a buffer");
    }

    [Fact]
    public void An_ambiguous_width_is_refused_and_declaring_it_plans_the_model()
    {
        using var model = new AmbiguousWidthModel();
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 16, 2, 16));
        act.Should().Throw<ParameterClassificationException>().Which.Message.Should().Contain("width (the size of the residual stream) is ambiguous").And.Contain(".Width(n)");

        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 16, 2, 16) with { Declarations = ModelDeclarations.None.Width(32) });
        plan.Setup.Scaling.WidthMultiplier.Should().Be(2.0);
    }

    [Theory]
    [InlineData(DecoderStyle.Qwen3)]
    [InlineData(DecoderStyle.Mixtral)]
    public void A_width_coordinate_check_passes_for_mup_and_completep_including_qk_norm_and_router_outputs_and_fails_for_sp(DecoderStyle style)
    {
        string watched = style == DecoderStyle.Qwen3 ? "*.self_attn.q_norm" : "*.block_sparse_moe.gate";
        var result = CoordinateCheck.Run((w, d) => new ModernDecoder(new DecoderConfig(style, Width: w, Depth: d, Calls: true)), (_, _) => (Ids, Ids),
            (logits, ids) => nn.functional.cross_entropy(logits.narrow(1, 0, 11).reshape(-1, 40), ids.narrow(1, 1, 11).reshape(-1)),
            new CoordinateCheckSettings
            {
                Parameterizations = [Parameterization.Standard, Parameterization.MuP, Parameterization.CompleteP],
                BaseShape = new ModelShape(32, 2),
                HeadDim = 16,
                Widths = [32, 64, 128, 256],
                SweepDepth = 2,
                Steps = 4,
                Seeds = [0, 1],
                Hyperparameters = new BaseHyperparameters(1e-2, 0.02),
                ModulePatterns = [watched, "lm_head"],
            });

        result.Measurements.Should().Contain(m => Discovery.Glob.Matches(watched, m.Module), "the watched module is recorded");
        if (style == DecoderStyle.Mixtral)
        {
            result.Measurements.Where(m => Discovery.Glob.Matches(watched, m.Module)).Should().OnlyContain(m => m.Kind == ModuleKind.BlockReadout);
        }

        // The size of every output (the router's logits may shrink at initialization, as muP's readout's do; never grow),
        // and for the QK-norm how much its output moved since step 1, which its gain's learning rate sets.
        foreach (var metric in new[] { CoordinateMetric.Rms, CoordinateMetric.DeltaRms })
        {
            var report = result.Report(metric);
            foreach (var verdict in report.WidthVerdicts.Where(v => Discovery.Glob.Matches(watched, v.Module) && v.Step == 4))
            {
                _output.WriteLine($"{metric}: {verdict}");
            }

            report.WidthVerdicts.Where(v => v.Parameterization != "sp" && Discovery.Glob.Matches(watched, v.Module)).Should().NotBeEmpty().And.OnlyContain(v => v.Passed, $"{metric}");
        }

        result.Report().Should().BeStableAcrossWidth("mup").And.BeStableAcrossWidth("completep").And.NotBeStableAcrossWidth("sp");
    }

    [Fact]
    public void A_timm_style_vit_is_planned_as_muP_classifies_it_once_its_cls_token_is_declared_and_trains_like_its_hand_written_forward()
    {
        var images = randn([4, 3, 8, 8], generator: new Generator(3)).DetachFromDisposeScope();
        var labels = randint(0, 10, [4], generator: new Generator(4)).DetachFromDisposeScope();
        Tensor VitLoss(VitLike m, int step) => nn.functional.cross_entropy(m.forward(images.to(m.parameters().First().dtype)), labels);
        var options = From32x1() with { Declarations = ModelDeclarations.None.Role("cls_token", TensorRole.Embedding) };

        using (var undeclared = new VitLike(64, 3))
        using (var optimizer = optim.AdamW(undeclared.parameters()))
        {
            ((Action)(() => Parameterize.Apply(undeclared, optimizer, From32x1()))).Should().Throw<ParameterClassificationException>()
                .Which.Message.Should().Contain("'cls_token'").And.Contain("TensorRole.Embedding");
        }

        var reference = EquivalenceRuns.Train(() => new VitLike(64, 3, calls: true), VitLoss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var forward = EquivalenceRuns.Train(() => new VitLike(64, 3), VitLoss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);
        var hooks = EquivalenceRuns.Train(() => new VitLike(64, 3, calls: true), VitLoss, options, Way.Hooks, 0.5, Steps, ScalarType.Float64);

        var plan = forward.Plan;
        plan["patch_embed.proj.weight"].Rule.Role.Should().Be(TensorRole.Embedding, "input-like: only its fan-out scales");
        plan["pos_embed"].Rule.Role.Should().Be(TensorRole.Embedding);
        plan["head.weight"].Folded!.Value.Value.Should().Be(0.5, "output-like: logits x 1/m_N");
        plan["blocks.0.attn.qkv.weight"].Rule.Role.Should().Be(TensorRole.HiddenWeight);
        reference.Losses[^1].Should().BeLessThan(reference.Losses[0]);
        EquivalenceRuns.Difference(forward, reference).Loss.Should().BeLessThan(1e-11);
        EquivalenceRuns.Difference(hooks, reference).Loss.Should().BeLessThan(1e-11);
    }

    [Theory]
    [InlineData(DecoderStyle.Llama3)]
    [InlineData(DecoderStyle.Olmo2)]
    [InlineData(DecoderStyle.Gemma)]
    [InlineData(DecoderStyle.GptJ)]
    public void The_other_styles_pass_a_width_coordinate_check_under_mup_that_sp_fails(DecoderStyle style)
    {
        // At the base depth CompleteP's rules are muP's; Qwen3 and Mixtral are checked above with their QK-norms and routers.
        var result = CoordinateCheck.Run((w, d) => new ModernDecoder(new DecoderConfig(style, Width: w, Depth: d, Calls: true)), (_, _) => (Ids, Ids), NextTokenLoss,
            new CoordinateCheckSettings
            {
                Parameterizations = [Parameterization.Standard, Parameterization.MuP],
                BaseShape = new ModelShape(32, 2),
                HeadDim = 16,
                Widths = [32, 64, 128, 256],
                SweepDepth = 2,
                Steps = 3,
                Seeds = [0, 1],
                // An init std of 0.2, not 0.02: OLMo-2 normalizes branch outputs whose inputs, with no pre-norm, start at the
                // embedding's size; at 0.02 those outputs fall below the norms' epsilon (1e-6 on the mean square), and the
                // check would measure the epsilon, not the rules.
                Hyperparameters = new BaseHyperparameters(1e-2, 0.2),
            });

        result.Report().Should().BeStableAcrossWidth("mup").And.NotBeStableAcrossWidth("sp");
    }

    [Fact]
    public void A_depth_coordinate_check_of_a_pre_norm_moe_passes_under_completep_and_fails_under_mup()
    {
        var result = DepthCheck(DecoderStyle.Mixtral, Parameterization.MuP, Parameterization.CompleteP);
        result.Report().Should().BeStableAcrossDepth("completep").And.NotBeStableAcrossDepth("mup");
    }

    [Theory]
    [InlineData(DecoderStyle.Olmo2)]
    [InlineData(DecoderStyle.Gemma)]
    public void With_norms_on_the_branch_outputs_the_residual_stream_starts_at_L_to_the_half_minus_alpha_and_is_stable_after_training_steps(DecoderStyle style)
    {
        // Each branch writes a normalized vector (RMS = its gain, m_L^-alpha at init), and 2L of them in random directions
        // sum to sqrt(2L) * m_L^-alpha: the residual stream starts at L^(1/2 - alpha), shrinking like L^-1/2 under CompleteP,
        // flat under depth-muP (alpha 1/2). After a few steps the updates align and CompleteP's stream is flat too; muP's grows.
        var result = DepthCheck(style, Parameterization.MuP, Parameterization.DepthMuP, Parameterization.CompleteP);
        var verdicts = result.Report().DepthVerdicts.Where(v => v.Module == "norm.input").ToList();
        verdicts.ForEach(v => _output.WriteLine(v.ToString()));

        verdicts.Single(v => v.Parameterization == "completep" && v.Step == 1).Slope.Should().BeInRange(-0.75, -0.25, "L^(1/2 - 1) at initialization");
        verdicts.Single(v => v.Parameterization == "depth-mup" && v.Step == 1).Slope.Should().BeInRange(-0.25, 0.25, "L^(1/2 - 1/2) at initialization");
        verdicts.Single(v => v.Parameterization == "completep" && v.Step == 6).Passed.Should().BeTrue("stable once training has aligned the updates");
        result.Report().Should().NotBeStableAcrossDepth("mup");
    }

    private static CoordinateCheckResult DepthCheck(DecoderStyle style, params Parameterization[] parameterizations) =>
        CoordinateCheck.Run((w, d) => new ModernDecoder(new DecoderConfig(style, Width: w, Depth: d, Calls: true)), (_, _) => (Ids, Ids), NextTokenLoss,
            new CoordinateCheckSettings
            {
                Parameterizations = parameterizations,
                BaseShape = new ModelShape(32, 2),
                HeadDim = 16,
                Depths = [2, 4, 8, 16],
                SweepWidth = 32,
                Steps = 6,
                Hyperparameters = new BaseHyperparameters(1e-2, 0.02),
            });

    private static Tensor NextTokenLoss(Tensor logits, Tensor ids) =>
        nn.functional.cross_entropy(logits.narrow(1, 0, 11).reshape(-1, logits.shape[^1]), ids.narrow(1, 1, 11).reshape(-1));
}
