using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// A corpus of model styles in the shapes public TorchSharp code takes. Each either trains under the plan exactly like
/// the hand-written CompleteP version of the same model (losses step for step, float64), or is refused with the
/// message that says what to change.
/// </summary>
public class ModelStylesTests
{
    private const int Steps = 8;
    private static readonly Tensor Ids = Tokens(4, 12, 40, 5).DetachFromDisposeScope();
    private readonly ITestOutputHelper _output;

    public ModelStylesTests(ITestOutputHelper output) => _output = output;

    private static ParameterizeOptions CompletePFrom32x1(Parameterization? p = null) =>
        Options(p ?? Parameterization.CompleteP, 32, 1, 16, lr: 0.02, std: 0.05, wd: 0.1, eps: 1e-8);

    private static Tensor NextTokenLoss(Tensor logits) =>
        nn.functional.cross_entropy(logits.narrow(1, 0, 11).reshape(-1, logits.shape[^1]), Ids.narrow(1, 1, 11).reshape(-1));

    [Fact]
    public void A_llama_style_decoder_as_written_is_classified_without_declarations()
    {
        using var model = new LlamaLike(vocab: 40, width: 64, depth: 3);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompletePFrom32x1());

        // lm_head is registered before the decoder and is still the readout: it maps the width outward.
        plan["lm_head.weight"].Rule.Role.Should().Be(TensorRole.Unembedding);
        plan["lm_head.weight"].Folded!.Kind.Should().Be(MultiplierKind.Output);
        plan["model.embed_tokens.weight"].Rule.Role.Should().Be(TensorRole.Embedding);
        plan["model.norm.weight"].Rule.Role.Should().Be(TensorRole.FinalNorm);
        // o_proj is registered before q/k/v and all four are 64 x 64: the output projection is told by its name.
        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Select(r => r.Name).Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => new[] { $"model.layers.{i}.self_attn.o_proj.weight", $"model.layers.{i}.mlp.down_proj.weight" }));
        plan.Hooks.Should().BeEmpty("nothing needs a hook: the model's .forward calls cannot skip a folded multiplier");
        // The rotary tables are buffers named like rotary tables: listed, not warned about; the attention scale is stated.
        plan.Diagnostics.Should().Contain(d => d.Subject == "model.cos_cached" && d.Severity == DiagnosticSeverity.Info);
        plan.Diagnostics.Should().Contain(d => d.Subject == "(attention)" && d.Message.Contains("1/sqrt(d_head)"));
        plan.Diagnostics.Should().NotContain(d => d.Severity == DiagnosticSeverity.Warning);
    }

    [Theory]
    [InlineData("completep")]
    [InlineData("mup")]
    public void A_llama_style_decoder_trains_exactly_like_its_hand_written_completep_version(string parameterization)
    {
        var options = CompletePFrom32x1(Parameterization.Parse(parameterization));
        LlamaLike Build() => new(vocab: 40, width: 64, depth: 3);
        Tensor Loss(LlamaLike m, int step) => NextTokenLoss(m.forward(new LlamaLikeInput(Ids)).Logits);

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);

        var (loss, weight, worst) = EquivalenceRuns.Difference(folded, reference);
        _output.WriteLine($"{parameterization}: losses {string.Join(", ", reference.Losses.Select(l => l.ToString("F4")))}; difference {loss:E2}, weights {weight:E2} ({worst})");
        reference.Losses[^1].Should().BeLessThan(reference.Losses[0]);
        loss.Should().BeLessThan(1e-11);
        weight.Should().BeLessThan(1e-9);
    }

    [Fact]
    public void An_embedding_padding_row_stays_zero_after_the_re_initialization()
    {
        // LLaMA- and Phi-style code builds nn.Embedding(vocab, width, padding_idx: config.PadTokenId): TorchSharp zeroes that
        // row and never updates it. Before, Apply's re-initialization filled it with N(0, sigma) values it kept forever.
        using var model = new LlamaLike(vocab: 40, width: 64, depth: 2, paddingIdx: 39);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, CompletePFrom32x1());

        var table = model.get_parameter("model.embed_tokens.weight")!;
        table[39].abs().max().item<float>().Should().Be(0f, "the padding row stays zero");
        table[..39].std().item<float>().Should().BeApproximately((float)plan["model.embed_tokens.weight"].Applied.InitValue, 0.01f, "the other rows are re-initialized");
        plan.Diagnostics.Should().Contain(d => d.Subject == "model.embed_tokens.weight" && d.Message.Contains("row 39") && d.Message.Contains("padding_idx"));
    }

    [Fact]
    public void Hooks_cannot_scale_a_branch_that_takes_a_record_and_the_refusal_says_to_fold()
    {
        using var model = new LlamaLike(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompletePFrom32x1() with { Multipliers = MultiplierMode.Hooks });

        var e = act.Should().Throw<ParameterClassificationException>().Which;
        e.Problems.Should().Contain(p => p.Contains("'model.layers.0.self_attn'") && p.Contains("LlamaLikeAttention, not a Module<Tensor, Tensor>") && p.Contains("use the default MultiplierMode.Fold"));
        e.Message.Should().NotContain("wrap it in ResidualBranch", "no such type exists");
    }

    [Fact]
    public void A_gpt2_port_whose_logits_come_from_the_embedding_table_is_refused_by_name()
    {
        using var model = new Gpt2MatmulHead(vocab: 40, width: 64, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, CompletePFrom32x1());

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("no readout was found").And.Contain("after the final norm 'ln_f' (x @ wte.weight.T), declare .LogitsFromEmbeddingTable()")
            .And.Contain(".OutputMultiplierAppliedInForward()");
    }

    [Theory]
    [InlineData("completep")]
    [InlineData("mup")]
    public void A_gpt2_port_whose_logits_come_from_the_embedding_table_trains_exactly_as_written_with_the_declaration_the_refusal_names(string parameterization)
    {
        var options = CompletePFrom32x1(Parameterization.Parse(parameterization)) with { Declarations = ModelDeclarations.None.LogitsFromEmbeddingTable() };
        Gpt2MatmulHead Build() => new(vocab: 40, width: 64, depth: 3);
        Tensor Loss(Gpt2MatmulHead m, int step) => NextTokenLoss(m.forward(Ids));

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64); // no edit of the model

        // The logits are linear in the final norm's gain and shift: alpha_out / m_N = 1/2 is folded there.
        folded.Plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Output).Select(r => r.Name).Should().BeEquivalentTo(["ln_f.weight", "ln_f.bias"]);
        folded.Plan["ln_f.weight"].Applied.InitValue.Should().Be(0.5, "the gain starts at 1 times the folded multiplier");
        folded.Plan.Diagnostics.Should().Contain(d => d.Subject == "ln_f" && d.Message.Contains(".LogitsFromEmbeddingTable()"));
        var (loss, weight, worst) = EquivalenceRuns.Difference(folded, reference);
        _output.WriteLine($"{parameterization}: losses {string.Join(", ", reference.Losses.Select(l => l.ToString("F4")))}; difference {loss:E2}, weights {weight:E2} ({worst})");
        reference.Losses[^1].Should().BeLessThan(reference.Losses[0]);
        loss.Should().BeLessThan(1e-11);
        weight.Should().BeLessThan(1e-9);
    }

    [Theory]
    [InlineData("completep")]
    [InlineData("mup")]
    public void A_gpt_whose_tied_head_and_every_module_are_called_through_forward_trains_exactly_like_its_hand_written_version(string parameterization)
    {
        // Before: the tied head's logit multiplier was a forward hook, and a model invoked through .forward (root and
        // head alike) never ran it nor the first-forward check: the logits silently lacked alpha_out / m_N.
        var options = CompletePFrom32x1(Parameterization.Parse(parameterization));
        TiedForwardGpt Build() => new(vocab: 40, width: 64, depth: 3);
        Tensor Loss(TiedForwardGpt m, int step) => NextTokenLoss(m.forward(Ids));

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);

        folded.Plan.Hooks.Should().BeEmpty("the multiplier is folded into the final norm, where no .forward call can skip it");
        folded.Plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Output).Select(r => r.Name).Should().BeEquivalentTo(["ln_f.weight", "ln_f.bias"]);
        folded.Plan.Rows.Single(r => r.SharedWith.Count > 0).Folded.Should().BeNull("the tied table is also the embedding");
        var (loss, weight, worst) = EquivalenceRuns.Difference(folded, reference);
        _output.WriteLine($"{parameterization}: losses {string.Join(", ", reference.Losses.Select(l => l.ToString("F4")))}; difference {loss:E2}, weights {weight:E2} ({worst})");
        loss.Should().BeLessThan(1e-11);
        weight.Should().BeLessThan(1e-9);
    }

    [Fact]
    public void A_gpt2_port_that_scales_its_own_logits_trains_exactly_like_its_hand_written_completep_version()
    {
        var options = CompletePFrom32x1() with { Declarations = ModelDeclarations.None.OutputMultiplierAppliedInForward() };
        Gpt2MatmulHead Build() => new(vocab: 40, width: 64, depth: 3);
        Tensor Loss(Gpt2MatmulHead m, int step) => NextTokenLoss(m.forward(Ids));

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        // The user's one edit: the forward multiplies the logits by plan.Multipliers.Output.
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64,
            afterApply: (m, plan) => m.Scales.Output = plan.Multipliers.Output.Value);

        folded.Plan.Rows.Where(r => r.Folded is not null).Should().OnlyContain(r => r.Name.Contains(".c_proj.", StringComparison.Ordinal));
        folded.Plan.Diagnostics.Should().Contain(d => d.Subject == "(logits)");
        var (loss, weight, _) = EquivalenceRuns.Difference(folded, reference);
        loss.Should().BeLessThan(1e-11);
        weight.Should().BeLessThan(1e-9);
    }

    [Fact]
    public void A_language_model_over_the_native_transformer_encoder_is_refused_by_name()
    {
        using var model = new NativeEncoderLm(vocab: 40, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.MuP, 16, 2, 16));

        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("'transformer_encoder' is TorchSharp's native TransformerEncoder").And.Contain("run inside libtorch");
    }

    [Fact]
    public void A_model_whose_weights_are_buffers_is_refused_by_name()
    {
        using var model = new BufferWeightsModel(vocab: 40, width: 32, depth: 2);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 16, 1, 16));

        var problems = act.Should().Throw<ParameterClassificationException>().Which.Problems;
        problems.Should().HaveCount(4, "the two Linears of each of the two blocks");
        problems.Should().Contain(p => p.Contains("'layers.0.up' (InferenceLinear) keeps its weight as a buffer ('weight' [64x32] Float32") && p.Contains("make the weight a Parameter"));
    }
}
