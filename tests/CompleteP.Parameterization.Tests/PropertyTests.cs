using FluentAssertions;
using FsCheck;
using FsCheck.Xunit;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// Properties that follow from rules.md, over shapes, exponents and base hyperparameters mapped from positive ints.
public sealed class PropertyTests
{
    private const int Cases = 100;

    private static readonly int[] HeadDims = [8, 16, 32, 64];

    // Mappings from positive ints to valid inputs.
    private static int HeadDim(PositiveInt i) => HeadDims[i.Get % HeadDims.Length];

    private static int Width(PositiveInt i, int headDim) => headDim * (1 + (i.Get % 64));

    private static int Depth(PositiveInt i) => 1 + (i.Get % 96);

    // alpha in [0.5, 1] on a 1/200 grid: 0.5 and 1 included.
    private static double Alpha(PositiveInt i) => 0.5 + ((i.Get % 101) / 200.0);

    private static Parameterization DepthScaled(PositiveInt i) => Parameterization.WithDepthExponent(Alpha(i));

    private static BaseHyperparameters Hp(PositiveInt seed)
    {
        int s = seed.Get;
        return new BaseHyperparameters(
            learningRate: 1e-4 * (1 + (s % 97)),
            initStd: 0.001 * (1 + (s % 53)),
            weightDecay: 0.01 * (s % 31),
            adamEpsilon: 1e-10 * (1 + (s % 89)));
    }

    private static RuleSet Compute(Parameterization p, int baseWidth, int baseDepth, int width, int depth, int headDim,
        BaseHyperparameters hp, RuleOptions? options = null) =>
        RulesEngine.Compute(new RuleSetup(p, new(baseWidth, baseDepth), new(width, depth), headDim, hp, options));

    [Property(MaxTest = Cases)]
    public void At_the_base_shape_muP_and_every_alpha_give_the_base_values(
        PositiveInt w, PositiveInt d, PositiveInt h, PositiveInt a, PositiveInt seed, bool useMuP)
    {
        int headDim = HeadDim(h), width = Width(w, headDim), depth = Depth(d);
        var hp = Hp(seed);
        var p = useMuP ? Parameterization.MuP : DepthScaled(a);
        var rules = Compute(p, width, depth, width, depth, headDim, hp);

        rules.Multipliers.Residual.Value.Should().Be(1.0);
        rules.Multipliers.Output.Value.Should().Be(1.0);
        rules.Multipliers.Embedding.Value.Should().Be(1.0);
        rules.Multipliers.AttentionScale.Value.Should().Be(1.0 / headDim);
        foreach (var (role, rule) in rules.Roles)
        {
            rule.LearningRate.Should().Be(hp.LearningRate, "{0} LR", role);
            rule.AdamEpsilon.Should().Be(hp.AdamEpsilon, "{0} eps", role);
            bool decays = role is TensorRole.Embedding or TensorRole.HiddenWeight or TensorRole.Unembedding or TensorRole.BlockReadout;
            rule.WeightDecay.Should().Be(decays ? hp.WeightDecay : 0.0, "{0} wd", role);
            double init = role switch
            {
                TensorRole.HiddenNorm or TensorRole.FinalNorm or TensorRole.QkNorm => 1.0,
                TensorRole.HiddenBias => 0.0,
                _ => hp.InitStd,
            };
            rule.InitValue.Should().Be(init, "{0} init", role);
        }
    }

    [Property(MaxTest = Cases)]
    public void Residual_multiplier_times_hidden_lr_scales_as_inverse_width_times_inverse_depth(
        PositiveInt bw, PositiveInt w, PositiveInt bd, PositiveInt d, PositiveInt h, PositiveInt a, PositiveInt seed)
    {
        int headDim = HeadDim(h), baseWidth = Width(bw, headDim), width = Width(w, headDim), baseDepth = Depth(bd), depth = Depth(d);
        var hp = Hp(seed);
        var rules = Compute(DepthScaled(a), baseWidth, baseDepth, width, depth, headDim, hp);
        double mN = (double)width / baseWidth, mL = (double)depth / baseDepth;

        double product = rules.Multipliers.Residual.Value * rules[TensorRole.HiddenWeight].LearningRate;
        product.ShouldBeRelative(hp.LearningRate / mN / mL, 1e-12, "residual x hidden LR");
    }

    [Property(MaxTest = Cases)]
    public void Coupled_per_step_decay_of_hidden_weights_is_independent_of_width(
        PositiveInt bw, PositiveInt w1, PositiveInt w2, PositiveInt bd, PositiveInt d, PositiveInt h, PositiveInt a, PositiveInt seed)
    {
        int headDim = HeadDim(h), baseWidth = Width(bw, headDim), baseDepth = Depth(bd), depth = Depth(d);
        var hp = Hp(seed);
        var p = DepthScaled(a);
        double expected = hp.LearningRate * hp.WeightDecay * Math.Pow((double)depth / baseDepth, p.DepthExponent!.Value - 1);

        foreach (int width in new[] { Width(w1, headDim), Width(w2, headDim) })
        {
            var hidden = Compute(p, baseWidth, baseDepth, width, depth, headDim, hp)[TensorRole.HiddenWeight];
            (hidden.LearningRate * hidden.WeightDecay).ShouldBeRelative(expected, 1e-12, $"LR x wd at width {width}");
        }
    }

    [Property(MaxTest = Cases)]
    public void MuP_equals_any_alpha_when_depth_does_not_change(
        PositiveInt bw, PositiveInt w, PositiveInt d, PositiveInt h, PositiveInt a, PositiveInt seed, bool global, bool independent)
    {
        int headDim = HeadDim(h), baseWidth = Width(bw, headDim), width = Width(w, headDim), depth = Depth(d);
        var hp = Hp(seed);
        var options = new RuleOptions
        {
            EpsilonScope = global ? EpsilonScope.Global : EpsilonScope.ResidualBlocks,
            WeightDecayConvention = independent ? WeightDecayConvention.Independent : WeightDecayConvention.Coupled,
        };
        var mup = Compute(Parameterization.MuP, baseWidth, depth, width, depth, headDim, hp, options);
        var scaled = Compute(DepthScaled(a), baseWidth, depth, width, depth, headDim, hp, options);

        scaled.Multipliers.Residual.Value.Should().Be(mup.Multipliers.Residual.Value);
        scaled.Multipliers.Output.Value.Should().Be(mup.Multipliers.Output.Value);
        scaled.Multipliers.AttentionScale.Value.Should().Be(mup.Multipliers.AttentionScale.Value);
        foreach (var role in Enum.GetValues<TensorRole>())
        {
            foreach (bool isBias in role == TensorRole.HiddenWeight ? new[] { false } : new[] { false, true })
            {
                var descriptor = new TensorDescriptor(role, isBias);
                var x = mup.RuleFor(descriptor);
                var y = scaled.RuleFor(descriptor);
                y.InitKind.Should().Be(x.InitKind);
                y.InitValue.Should().Be(x.InitValue, "{0} init", role);
                y.LearningRate.Should().Be(x.LearningRate, "{0} LR", role);
                y.WeightDecay.Should().Be(x.WeightDecay, "{0} wd", role);
                y.AdamEpsilon.Should().Be(x.AdamEpsilon, "{0} eps", role);
            }
        }
    }

    [Property(MaxTest = Cases)]
    public void Hidden_weight_init_std_times_sqrt_width_multiplier_is_sigma(
        PositiveInt bw, PositiveInt w, PositiveInt bd, PositiveInt d, PositiveInt h, PositiveInt a, PositiveInt seed, bool useMuP)
    {
        int headDim = HeadDim(h), baseWidth = Width(bw, headDim), width = Width(w, headDim);
        var hp = Hp(seed);
        var p = useMuP ? Parameterization.MuP : DepthScaled(a);
        var rules = Compute(p, baseWidth, Depth(bd), width, Depth(d), headDim, hp);
        double mN = (double)width / baseWidth;

        var hidden = rules[TensorRole.HiddenWeight];
        hidden.InitKind.Should().Be(InitKind.Normal);
        (hidden.InitValue * Math.Sqrt(mN)).ShouldBeRelative(hp.InitStd, 1e-12, "std x sqrt(m_N)");

        // The same with the per-tensor fan-in of the MLP down-projection (4N, 4N_base).
        var down = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 4L * width, baseFanIn: 4L * baseWidth));
        (down.InitValue * Math.Sqrt(mN)).ShouldBeRelative(hp.InitStd, 1e-12, "down-projection std x sqrt(m_N)");
    }

    [Property(MaxTest = Cases)]
    public void SP_never_scales(PositiveInt bw, PositiveInt w, PositiveInt bd, PositiveInt d, PositiveInt h, PositiveInt seed)
    {
        int headDim = HeadDim(h);
        var hp = Hp(seed);
        var rules = Compute(Parameterization.Standard, Width(bw, headDim), Depth(bd), Width(w, headDim), Depth(d), headDim, hp);
        rules.Multipliers.Residual.Value.Should().Be(1.0);
        rules.Multipliers.Output.Value.Should().Be(1.0);
        rules.Multipliers.AttentionScale.Value.Should().Be(1.0 / Math.Sqrt(headDim));
        foreach (var rule in rules.Roles.Values)
        {
            rule.LearningRate.Should().Be(hp.LearningRate);
            rule.AdamEpsilon.Should().Be(hp.AdamEpsilon);
        }

        rules[TensorRole.HiddenWeight].InitValue.Should().Be(hp.InitStd);
        rules[TensorRole.HiddenWeight].WeightDecay.Should().Be(hp.WeightDecay);
    }
}
