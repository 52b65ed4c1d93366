using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Folded = hooked = Table 1, step for step: the same model trained N AdamW steps from one seed with the multipliers
/// folded into the weights (Apply's default), with forward hooks (MultiplierMode.Hooks), and as the hand-written Table 1
/// version (the multipliers in its own forward, init and optimizer groups set by hand from Table 1), gives the same losses
/// and the same effective weights (a folded tensor divided by its multiplier), with and without gradient clipping,
/// under CompleteP, muP and alpha = 0.5: to float64 round-off in float64 and to float32 round-off in float32.
/// </summary>
public class EquivalenceTests
{
    private const int Steps = 12;
    private readonly ITestOutputHelper _output;

    public EquivalenceTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, bool, bool> Cases()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var p in new[] { "completep", "mup", "depth-mup" })
        {
            foreach (bool clip in new[] { false, true })
            {
                foreach (bool tie in new[] { false, true })
                {
                    data.Add(p, clip, tie);
                }
            }
        }

        return data;
    }

    private static ParameterizeOptions OptionsFor(string parameterization, RuleOptions? rules = null) =>
        Options(Parameterization.Parse(parameterization), 32, 1, 16, lr: 0.02, std: 0.05, wd: 0.1, eps: 1e-8) with { RuleOptions = rules ?? RuleOptions.Default };

    private static Tensor NextTokenLoss(Tensor logits, Tensor ids) =>
        nn.functional.cross_entropy(logits.narrow(1, 0, ids.shape[1] - 1).reshape(-1, logits.shape[^1]), ids.narrow(1, 1, ids.shape[1] - 1).reshape(-1));

    // One batch, repeated: the runs memorize it, so that their losses fall.
    private static readonly Tensor FixedBatch = Tokens(4, 12, 40, 100).DetachFromDisposeScope();

    private static Tensor Batch(int step) => FixedBatch;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Folded_hooked_and_table1_train_alike_in_float64(string parameterization, bool clip, bool tie)
    {
        var options = OptionsFor(parameterization);
        CallGpt Build() => new(vocab: 40, width: 64, depth: 3, tie: tie);
        Tensor Loss(CallGpt m, int step) => NextTokenLoss(m.call(Batch(step)), Batch(step));
        double maxNorm = clip ? 0.5 : 0;

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, maxNorm, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, maxNorm, Steps, ScalarType.Float64);
        var hooked = EquivalenceRuns.Train(Build, Loss, options, Way.Hooks, maxNorm, Steps, ScalarType.Float64);

        (folded.Plan.Rows.Count(r => r.Folded is not null) + folded.Plan.Hooks.Count).Should().BeGreaterThan(0, "some multiplier acts under {0}", parameterization);
        folded.Plan.Hooks.Should().BeEmpty("a tied readout's multiplier is folded into the final norm's gain and shift");
        if (tie && parameterization != "sp")
        {
            folded.Plan["ln_f.weight"].Folded!.Kind.Should().Be(MultiplierKind.Output);
        }
        hooked.Plan.Rows.Should().OnlyContain(r => r.Folded == null);
        reference.Losses[^1].Should().BeLessThan(reference.Losses[0], "the runs learn");
        var (foldLoss, foldWeight, foldWorst) = EquivalenceRuns.Difference(folded, reference);
        var (hookLoss, hookWeight, hookWorst) = EquivalenceRuns.Difference(hooked, reference);
        _output.WriteLine($"{parameterization} clip={clip} tie={tie}: folded vs Table 1 loss {foldLoss:E2} weight {foldWeight:E2} ({foldWorst}); hooked vs Table 1 loss {hookLoss:E2} weight {hookWeight:E2} ({hookWorst})");
        foldLoss.Should().BeLessThan(1e-11);
        foldWeight.Should().BeLessThan(1e-9);
        hookLoss.Should().BeLessThan(1e-11);
        hookWeight.Should().BeLessThan(1e-9);
    }

    [Theory]
    [InlineData("completep", true)]
    [InlineData("depth-mup", false)]
    public void Folded_and_table1_train_alike_in_float32(string parameterization, bool clip)
    {
        var options = OptionsFor(parameterization);
        CallGpt Build() => new(vocab: 40, width: 64, depth: 3);
        Tensor Loss(CallGpt m, int step) => NextTokenLoss(m.call(Batch(step)), Batch(step));

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, clip ? 0.5 : 0, Steps, ScalarType.Float32);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, clip ? 0.5 : 0, Steps, ScalarType.Float32);

        // The key part of c_attn's bias has a gradient that is exactly 0 in exact arithmetic (softmax ignores a constant
        // added to every score of a row): in float32 it trains on round-off, which Adam normalizes into full-size steps,
        // in any run. The float64 test above compares it too.
        var (loss, weight, worst) = EquivalenceRuns.Difference(folded, reference, name => !name.EndsWith("c_attn.bias", StringComparison.Ordinal));
        var (_, everything, _) = EquivalenceRuns.Difference(folded, reference);
        _output.WriteLine($"float32 {parameterization} clip={clip}: loss {loss:E2}, weight {weight:E2} ({worst}); with c_attn.bias {everything:E2}");
        // Adam divides each gradient entry by its running size: where an entry's gradient is near 0, float32 round-off in
        // it becomes a visible step. Measured: losses within 7e-7, weights within 4e-4 of their largest entry (the same
        // comparison in float64 gives 1e-16 and 1e-11): round-off, not a difference of the two runs' mathematics.
        loss.Should().BeLessThan(1e-5, "float32 round-off over {0} steps", Steps);
        weight.Should().BeLessThan(1e-3);
    }

    [Fact]
    public void Tunable_input_and_output_multipliers_fold_into_the_tables_and_a_tied_readouts_final_norm()
    {
        var options = OptionsFor("completep", new RuleOptions { InputMultiplier = 2.0, OutputMultiplier = 1.5 });
        CallGpt Build() => new(vocab: 40, width: 64, depth: 3, tie: true);
        Tensor Loss(CallGpt m, int step) => NextTokenLoss(m.call(Batch(step)), Batch(step));

        var reference = EquivalenceRuns.Train(Build, Loss, options, Way.Reference, 0.5, Steps, ScalarType.Float64);
        var folded = EquivalenceRuns.Train(Build, Loss, options, Way.Fold, 0.5, Steps, ScalarType.Float64);

        folded.Plan["wte.weight"].Folded!.Kind.Should().Be(MultiplierKind.Embedding);
        folded.Plan["wpe.weight"].Folded!.Value.Value.Should().Be(2.0);
        folded.Plan.Hooks.Should().BeEmpty();
        folded.Plan["ln_f.weight"].Folded!.Value.Value.Should().BeApproximately(1.5 / 2 / 2.0, 1e-15, "alpha_out / m_N over the alpha_in folded into the tied table");
        folded.Plan["ln_f.bias"].Folded!.Value.Value.Should().BeApproximately(1.5 / 2 / 2.0, 1e-15);
        var (loss, weight, _) = EquivalenceRuns.Difference(folded, reference);
        loss.Should().BeLessThan(1e-11);
        weight.Should().BeLessThan(1e-9);
    }
}
