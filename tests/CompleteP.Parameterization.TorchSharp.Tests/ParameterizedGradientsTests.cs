using CompleteP.Optimizers;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>Fold-aware global-norm clipping against TorchSharp's clip_grad_norm_ and a hand computation.</summary>
public class ParameterizedGradientsTests
{
    /// <summary>A parameterized GPT with gradients from one batch.</summary>
    private static (NanoGpt.Gpt Model, ParameterizationPlan Plan) WithGradients(int seed)
    {
        manual_seed(seed);
        var model = BuildGpt(64, 2);
        using var optimizer = optim.AdamW(model.parameters());
        var x = Tokens(2, 16, 65, seed);
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 32, 1, 16) with { Multipliers = MultiplierMode.Hooks, SampleForward = () => model.call(x) }); // nothing folded
        nn.functional.cross_entropy(model.call(x).view(-1, 65), x.view(-1)).backward();
        return (model, plan);
    }

    private static Dictionary<string, Tensor> Gradients(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());

    private static void Restore(nn.Module model, Dictionary<string, Tensor> gradients)
    {
        foreach (var (name, p) in model.named_parameters())
        {
            p.grad!.copy_(gradients[name]);
        }
    }

    /// <summary>The plan with a folded multiplier on some rows: 0.5 on the residual projections, 0.25 on the embeddings.</summary>
    private static ParameterizationPlan WithFoldedRows(ParameterizationPlan plan) => new(plan.Setup, plan.Multipliers,
        plan.Rows.Select(r => new PlanRow(r.Name, r.Shape, r.Rule, r.SharedWith, r.ResidualBranch, r.Trainable)).Select(r => Fold(r.Name) is { } c ? r.Fold(c) : r).ToList(),
        plan.Hooks, plan.ScaledAttentionModules, plan.Diagnostics);

    private static FoldedMultiplier? Fold(string name) =>
        name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? new FoldedMultiplier(MultiplierKind.Residual, ScaledValue.Constant(0.5))
        : name.StartsWith("transformer.wte", StringComparison.Ordinal) ? new FoldedMultiplier(MultiplierKind.Embedding, ScaledValue.Constant(0.25))
        : null;

    [Fact]
    public void Without_folding_it_equals_torch_clip_grad_norm()
    {
        var (model, plan) = WithGradients(3);
        using var _ = model;
        var original = Gradients(model);

        double norm = ParameterizedGradients.ClipGradNorm(model, plan, maxNorm: 0.05);
        var ours = Gradients(model);
        Restore(model, original);
        double reference = nn.utils.clip_grad_norm_(model.parameters(), 0.05);
        var theirs = Gradients(model);

        reference.Should().BeGreaterThan(0.05, "the test must clip");
        norm.Should().BeApproximately(reference, 1e-5 * reference);
        foreach (var name in ours.Keys)
        {
            (ours[name] - theirs[name]).abs().max().item<float>().Should().BeLessThanOrEqualTo(4e-6f * (theirs[name].abs().max().item<float>() + 1e-12f), name);
            (ours[name] - original[name]).abs().max().item<float>().Should().BeGreaterThan(0, $"{name} was scaled");
        }
    }

    [Fact]
    public void With_folded_multipliers_the_norm_is_the_unfolded_models()
    {
        var (model, plan) = WithGradients(5);
        using var _ = model;
        var folded = WithFoldedRows(plan);
        folded.Rows.Count(r => r.Folded is not null).Should().BeGreaterThan(2);
        var original = Gradients(model);

        // by hand, in float64: sum over distinct tensors of (c * |g|)^2; the tied wte/lm_head tensor once
        double sum = 0;
        foreach (var (name, _) in model.named_parameters())
        {
            double c = Fold(name)?.Value.Value ?? 1.0;
            double g = original[name].to(ScalarType.Float64).norm().item<double>();
            sum += c * c * g * g;
        }

        double expected = Math.Sqrt(sum);
        double unscaled = nn.utils.clip_grad_norm_(model.parameters(), 1e30);
        expected.Should().NotBeApproximately(unscaled, 1e-3 * unscaled, "the factors must change the norm");

        double maxNorm = expected / 3;
        double norm = ParameterizedGradients.ClipGradNorm(model, folded, maxNorm);
        norm.Should().BeApproximately(expected, 1e-5 * expected);
        double coefficient = maxNorm / (expected + 1e-6);
        foreach (var (name, p) in model.named_parameters())
        {
            var want = original[name] * coefficient;
            (p.grad! - want).abs().max().item<float>().Should().BeLessThanOrEqualTo(2e-6f * (want.abs().max().item<float>() + 1e-12f), name);
        }
    }

    [Fact]
    public void A_norm_under_the_limit_leaves_the_gradients_alone()
    {
        var (model, plan) = WithGradients(7);
        using var _ = model;
        var original = Gradients(model);
        using var norm = ParameterizedGradients.ClipGradNormOnDevice(model, plan, maxNorm: 1e6);
        norm.shape.Should().BeEmpty();
        norm.item<float>().Should().BeGreaterThan(0);
        foreach (var (name, p) in model.named_parameters())
        {
            p.grad!.allclose(original[name], rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_bad_max_norm_is_refused(double maxNorm)
    {
        var (model, plan) = WithGradients(1);
        using var _ = model;
        ((Action)(() => ParameterizedGradients.ClipGradNorm(model, plan, maxNorm))).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("maxNorm").WithMessage("*(0, +inf)*");
    }

    [Fact]
    public void A_parameter_missing_from_the_plan_is_named()
    {
        var (model, plan) = WithGradients(1);
        using var _ = model;
        var partial = new ParameterizationPlan(plan.Setup, plan.Multipliers, plan.Rows.Where(r => r.Name != "transformer.ln_f.weight").ToList());
        ((Action)(() => ParameterizedGradients.ClipGradNorm(model, partial, 1.0))).Should().Throw<ArgumentException>()
            .WithParameterName("plan").WithMessage("*transformer.ln_f.weight*");
    }
}
