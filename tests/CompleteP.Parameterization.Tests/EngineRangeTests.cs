using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CompleteP.Tests.Engine;

/// <summary>
/// The engine over the whole range of its inputs, extremes included (width 1, depth 1 and 10,000, width multipliers far
/// below 1, subnormal and huge hyperparameters and multipliers): every call either returns numbers that are finite, 0 or
/// normal doubles and satisfy the properties of rules.md, or throws an ArgumentException naming the argument to change.
/// Never NaN, never infinity, never a silently lost value.
/// </summary>
public sealed class EngineRangeTests
{
    private const double SmallestNormal = 2.2250738585072014E-308;

    /// <summary>The raw inputs of one engine call, before any of them is validated.</summary>
    public sealed record EngineInput(
        string Parameterization, int BaseWidth, int Width, int BaseDepth, int Depth, int HeadDim,
        double Lr, double Std, double Wd, double Eps, double AlphaIn, double AlphaOut, double AlphaAttn,
        bool GlobalEpsilon, bool Independent, bool Gpt2, long FanIn, long BaseFanIn)
    {
        public override string ToString() =>
            $"{Parameterization} {BaseWidth}x{BaseDepth} -> {Width}x{Depth} d_head {HeadDim} eta {Lr:R} sigma {Std:R} lambda {Wd:R} eps {Eps:R} " +
            $"alpha_in {AlphaIn:R} alpha_out {AlphaOut:R} alpha_attn {AlphaAttn:R} global {GlobalEpsilon} independent {Independent} gpt2 {Gpt2} fan-in {FanIn}/{BaseFanIn}";
    }

    /// <summary>Generators that reach the extremes.</summary>
    public static class Extremes
    {
        private static readonly double[] Special =
        [
            double.Epsilon, 1e-320, 1e-310, SmallestNormal, 1e-300, 1e-200, 1e-12, 1e-8, 0.02, 1, 3, 1e12, 1e200, 1e300, 1.7e308, double.MaxValue,
        ];

        // Mostly ordinary values, often an extreme, rarely an invalid one: every input can be extreme, and many setups stay valid.
        private static Gen<double> Positive() => Gen.Frequency(
            (2, Gen.Elements(Special)),
            (2, Gen.Choose(-323, 308).Zip(Gen.Choose(1, 99), (e, m) => m / 10.0 * Math.Pow(10, e))),
            (24, Gen.Choose(1, 10_000).Select(i => i * 1e-5)),
            (1, Gen.Elements(double.NaN, double.PositiveInfinity, -1e-3, 0.0)));

        private static Gen<double> NonNegative() => Gen.Frequency((8, Positive()), (1, Gen.Constant(0.0)));

        private static Gen<int> Size() => Gen.Frequency(
            (6, Gen.Elements(1, 2, 3, 7, 64, 1000, 4096, 10_000, 1 << 20, int.MaxValue)),
            (12, Gen.Choose(1, 2048)),
            (1, Gen.Elements(0, -1)));

        private static Gen<long> FanIn() => Gen.Frequency(
            (3, Gen.Elements(1L, 2L, 3L, 4096L, 1L << 40, long.MaxValue)),
            (3, Gen.Choose(1, 100_000).Select(i => (long)i)),
            (1, Gen.Constant(0L)));

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

        public static Arbitrary<EngineInput> Inputs()
        {
            var names = Gen.Elements("sp", "mup", "completep", "depth-mup", "alpha=0.75", "alpha=0.5000001", "alpha=0.999");
            var gen =
                from name in names
                from bw in Size()
                from w in Size()
                from bd in Size()
                from d in Size()
                from headPick in Gen.Choose(0, 9)
                from lr in Positive()
                from std in NonNegative()
                from wd in NonNegative()
                from eps in Positive()
                from ain in Gen.Frequency((3, Gen.Constant(1.0)), (2, Positive()))
                from aout in Gen.Frequency((3, Gen.Constant(1.0)), (2, Positive()))
                from aattn in Gen.Frequency((3, Gen.Constant(1.0)), (2, Positive()))
                from global in Gen.Elements(false, true)
                from independent in Gen.Elements(false, true)
                from gpt2 in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
                from fanIn in FanIn()
                from baseFanIn in FanIn()
                let g = bw > 0 && w > 0 ? Gcd(bw, w) : 1
                // d_head: 1, the widths' gcd, or (rarely) one that does not divide them.
                let headDim = headPick switch { < 4 => 1, < 9 => g, _ => g + 1 }
                select new EngineInput(name, bw, w, bd, d, headDim, lr, std, wd, eps, ain, aout, aattn, global, independent, gpt2, fanIn, baseFanIn);
            return Arb.From(gen);
        }
    }

    // The argument names an engine error may carry: those of the constructors and of RulesEngine.RuleFor.
    private static readonly HashSet<string> ArgumentNames =
    [
        "width", "depth", "headDim", "learningRate", "initStd", "weightDecay", "adamEpsilon",
        nameof(RuleOptions.InputMultiplier), nameof(RuleOptions.OutputMultiplier), nameof(RuleOptions.AttentionMultiplier),
        "hyperparameters", "options", "tensor", "fanIn", "baseFanIn",
    ];

    [Property(MaxTest = 3000, Arbitrary = new[] { typeof(Extremes) })]
    public void Every_call_returns_finite_normal_numbers_that_keep_the_properties_or_throws_naming_the_argument(EngineInput input)
    {
        RuleSet rules;
        try
        {
            rules = RulesEngine.Compute(Setup(input));
        }
        catch (ArgumentException e)
        {
            ShouldName(e, input);
            return;
        }

        var setup = rules.Setup;
        double mN = (double)input.Width / input.BaseWidth, mL = (double)input.Depth / input.BaseDepth;
        foreach (var m in new[] { rules.Multipliers.Residual, rules.Multipliers.Output, rules.Multipliers.Embedding, rules.Multipliers.AttentionScale })
        {
            double.IsNormal(m.Value).Should().BeTrue("multiplier {0} = {1:R} ({2})", m.Formula, m.Value, input);
        }

        foreach (var role in Enum.GetValues<TensorRole>())
        {
            foreach (bool isBias in role == TensorRole.HiddenWeight ? new[] { false } : new[] { false, true })
            {
                var rule = rules.RuleFor(new TensorDescriptor(role, isBias));
                ShouldBeInRange(rule, input);

                // The multiplier Apply folds into the role must fold without leaving the range (the setup promised it).
                MultiplierKind? kind = role switch
                {
                    TensorRole.HiddenWeight or TensorRole.HiddenBias => MultiplierKind.Residual,
                    TensorRole.Unembedding => MultiplierKind.Output,
                    TensorRole.Embedding => MultiplierKind.Embedding,
                    _ => null,
                };
                if (kind is { } k && rules.Multipliers[k].Value != 1)
                {
                    ShouldBeInRange(rule.Folded(new FoldedMultiplier(k, rules.Multipliers[k])), input);
                }
            }
        }

        // A hidden weight with its own fan-ins: in range, or refused naming the tensor.
        try
        {
            var descriptor = new TensorDescriptor(TensorRole.HiddenWeight, fanIn: input.FanIn, baseFanIn: input.BaseFanIn);
            ShouldBeInRange(rules.RuleFor(descriptor), input);
        }
        catch (ArgumentOutOfRangeException e)
        {
            e.ParamName.Should().BeOneOf(["tensor", "fanIn", "baseFanIn"], "({0})", input);
            e.Message.Should().NotBeNullOrWhiteSpace();
        }

        // rules.md, "Properties that follow", wherever the numbers themselves are normal.
        var hidden = rules[TensorRole.HiddenWeight];
        var p = setup.Parameterization;
        if (p.Kind == ParameterizationKind.DepthScaled)
        {
            double expected = input.Lr / mN / mL;
            if (double.IsNormal(expected) && expected > 1e-290)
            {
                (rules.Multipliers.Residual.Value * hidden.LearningRate).ShouldBeRelative(expected, 1e-12, $"residual x hidden LR ({input})");
            }

            double decay = input.Lr * input.Wd * Math.Pow(mL, p.DepthExponent!.Value - 1);
            if (!input.Independent && double.IsNormal(decay) && decay > 1e-290 && decay < 1e290)
            {
                (hidden.LearningRate * hidden.WeightDecay).ShouldBeRelative(decay, 1e-12, $"LR x wd of hidden weights ({input})");
            }
        }

        if (p.Kind == ParameterizationKind.Standard)
        {
            rules.Multipliers.Residual.Value.Should().Be(1);
            hidden.LearningRate.Should().Be(input.Lr);
            hidden.AdamEpsilon.Should().Be(input.Eps);
            if (!input.Gpt2)
            {
                hidden.InitValue.Should().Be(input.Std);
            }
        }

        if (input.Width == input.BaseWidth && input.Depth == input.BaseDepth && p.Kind != ParameterizationKind.Standard)
        {
            foreach (var (role, rule) in rules.Roles)
            {
                rule.LearningRate.Should().Be(input.Lr, "{0} LR at the base shape", role);
                rule.AdamEpsilon.Should().Be(input.Eps, "{0} eps at the base shape", role);
            }
        }

        // The JSON summary writes every number (Utf8JsonWriter refuses non-finite ones).
        PlanJson.SerializeRoleSummary(rules).Should().NotContain("Infinity").And.NotContain("NaN");
    }

    [Fact]
    public void The_generator_reaches_both_valid_setups_and_refusals()
    {
        var sample = Extremes.Inputs().Generator.Sample(2000);
        int valid = sample.Count(i =>
        {
            try
            {
                _ = RulesEngine.Compute(Setup(i));
                return true;
            }
            catch (ArgumentException)
            {
                return false;
            }
        });
        valid.Should().BeInRange(400, 1600, "the property must see many valid setups and many refusals");
        sample.Count(i => i.Depth >= 10_000 || i.Width == 1 || i.Width < i.BaseWidth).Should().BeGreaterThan(200, "the extremes are drawn");
    }

    private static RuleSetup Setup(EngineInput i) => new(
        Parameterization.Parse(i.Parameterization),
        new ModelShape(i.BaseWidth, i.BaseDepth),
        new ModelShape(i.Width, i.Depth),
        i.HeadDim,
        new BaseHyperparameters(i.Lr, i.Std, i.Wd, i.Eps),
        new RuleOptions
        {
            EpsilonScope = i.GlobalEpsilon ? EpsilonScope.Global : EpsilonScope.ResidualBlocks,
            WeightDecayConvention = i.Independent ? WeightDecayConvention.Independent : WeightDecayConvention.Coupled,
            Gpt2OutputProjectionInit = i.Gpt2,
            InputMultiplier = i.AlphaIn,
            OutputMultiplier = i.AlphaOut,
            AttentionMultiplier = i.AlphaAttn,
        });

    private static void ShouldName(ArgumentException e, EngineInput input)
    {
        new[] { typeof(ArgumentException), typeof(ArgumentOutOfRangeException) }.Should().Contain(e.GetType(), "engine errors are argument errors ({0}): {1}", input, e);
        e.ParamName.Should().NotBeNull("({0}) {1}", input, e.Message);
        ArgumentNames.Should().Contain(e.ParamName!, "the error names an argument ({0}): {1}", input, e.Message);
        e.Message.Should().NotContain("NaN = ").And.NotBeNullOrWhiteSpace();
        if (e is ArgumentOutOfRangeException && e.ParamName is "hyperparameters" or "options")
        {
            // A range error says which inputs the formula came from and where the number went.
            e.Message.Should().Contain("Inputs:").And.Match(m => m.Contains("overflows", StringComparison.Ordinal) || m.Contains("underflows", StringComparison.Ordinal),
                "({0})", input);
        }
    }

    private static void ShouldBeInRange(TensorRule rule, EngineInput input)
    {
        foreach (var (value, what) in new[] { (rule.InitValue, "init"), (rule.LearningRate, "lr"), (rule.WeightDecay, "wd"), (rule.AdamEpsilon, "eps"), (rule.WidthMultiplier, "m_N") })
        {
            (double.IsFinite(value) && (value == 0 || double.IsNormal(value))).Should().BeTrue("{0} {1} = {2:R} ({3})", rule.Role, what, value, input);
            value.Should().BeGreaterThanOrEqualTo(0);
        }

        rule.LearningRate.Should().BeGreaterThan(0);
        rule.AdamEpsilon.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Width_1_depth_1_and_depth_10000_give_finite_rules()
    {
        foreach (var (bw, bd, w, d) in new[] { (1, 1, 1, 1), (1, 1, 1, 10_000), (64, 2, 1, 10_000), (1, 10_000, 4096, 1) })
        {
            var rules = TestSupport.Rules(Parameterization.CompleteP, bw, bd, w, d, 1);
            double mN = (double)w / bw, mL = (double)d / bd;
            rules.Multipliers.Residual.Value.ShouldBeRelative(1 / mL, 1e-15, "residual");
            rules[TensorRole.HiddenWeight].LearningRate.ShouldBeRelative(0.01 / mN, 1e-15, "hidden LR");
            rules[TensorRole.HiddenWeight].AdamEpsilon.ShouldBeRelative(1e-8 / mN / mL, 1e-15, "hidden eps");
        }
    }

    [Fact]
    public void Overflow_to_infinity_is_an_ArgumentOutOfRangeException_naming_the_hyperparameters()
    {
        // lambda * m_N with m_N = 2^20: coupled weight decay of hidden weights overflows.
        var act = () => RulesEngine.Compute(new RuleSetup(Parameterization.MuP, new ModelShape(1, 1), new ModelShape(1 << 20, 1), 1, new BaseHyperparameters(1e-3, 0.02, 1e303, 1e-8)));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "hyperparameters"
                && e.Message.Contains("overflows") && e.Message.Contains("lambda * m_N^1") && e.Message.Contains("hyperparameters.WeightDecay = 1E+303"));
    }

    [Fact]
    public void A_logit_multiplier_that_overflows_is_refused_naming_the_options()
    {
        // alpha_out * m_N^-1 with m_N = 2^-20: was Infinity on the plan.
        var act = () => RulesEngine.Compute(new RuleSetup(Parameterization.MuP, new ModelShape(1 << 20, 1), new ModelShape(1, 1), 1, new BaseHyperparameters(1e-3, 0.02),
            new RuleOptions { OutputMultiplier = 1e303 }));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "options" && e.Message.Contains("alpha_out * m_N^-1"));
    }

    [Fact]
    public void Underflow_to_a_subnormal_learning_rate_is_refused()
    {
        // eta * m_N^-1 = 1e-300 / 2^30: was a subnormal 9.3e-310 handed to the optimizer.
        var act = () => RulesEngine.Compute(new RuleSetup(Parameterization.MuP, new ModelShape(1, 1), new ModelShape(1 << 30, 1), 1, new BaseHyperparameters(1e-300, 0.02)));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "hyperparameters"
                && e.Message.Contains("learning rate underflows") && e.Message.Contains("eta * m_N^-1"));
    }

    [Fact]
    public void Underflow_of_the_init_std_to_zero_is_refused()
    {
        // sigma * m_N^-1/2 with sigma at the smallest normal: was a silent std of 0 or a subnormal.
        var act = () => RulesEngine.Compute(new RuleSetup(Parameterization.MuP, new ModelShape(1, 1), new ModelShape(1 << 30, 1), 1, new BaseHyperparameters(1e-3, SmallestNormal)));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "hyperparameters" && e.Message.Contains("init std underflows"));
    }

    [Fact]
    public void A_fold_that_underflows_the_epsilon_is_refused_naming_the_options()
    {
        // alpha_in = 1e300 folded into the embedding: eps / c_embedding = 1e-8 / 1e300 underflows.
        var act = () => RulesEngine.Compute(new RuleSetup(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(128, 4), 32, new BaseHyperparameters(1e-3, 0.02),
            new RuleOptions { InputMultiplier = 1e300 }));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "options" && e.Message.Contains("embedding multiplier folded in") && e.Message.Contains("underflows"));
    }

    [Theory]
    [InlineData(double.Epsilon)]
    [InlineData(1e-310)]
    public void Subnormal_hyperparameters_are_refused_naming_them(double value)
    {
        var acts = new (string Name, Action Act)[]
        {
            ("learningRate", () => _ = new BaseHyperparameters(value, 0.02)),
            ("initStd", () => _ = new BaseHyperparameters(1e-3, value)),
            ("weightDecay", () => _ = new BaseHyperparameters(1e-3, 0.02, value)),
            ("adamEpsilon", () => _ = new BaseHyperparameters(1e-3, 0.02, 0, value)),
            ("OutputMultiplier", () => _ = new RuleOptions { OutputMultiplier = value }),
        };
        foreach (var (name, act) in acts)
        {
            act.Should().ThrowExactly<ArgumentOutOfRangeException>()
                .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == name && e.Message.Contains("subnormal"));
        }
    }

    [Fact]
    public void A_tensor_fan_in_ratio_that_overflows_is_refused_naming_the_tensor()
    {
        var rules = TestSupport.Rules(Parameterization.MuP, 64, 2, 128, 2, 32, weightDecay: 1e300);
        var act = () => rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: long.MaxValue, baseFanIn: 1));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "tensor" && e.Message.Contains("fan-in 9223372036854775807"));
    }

    [Fact]
    public void Folding_a_multiplier_that_overflows_is_refused_naming_the_multiplier()
    {
        var rule = TestSupport.Rules(Parameterization.CompleteP, 64, 2, 128, 4, 32, lr: 1e300)[TensorRole.Unembedding];
        var act = () => rule.Folded(new FoldedMultiplier(MultiplierKind.Output, ScaledValue.Base("c", 1e10)));
        act.Should().ThrowExactly<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("multiplier");
    }

    [Fact]
    public void A_scaled_value_is_never_NaN_or_infinite()
    {
        ((Action)(() => _ = new ScaledValue(double.NaN, "x", "x"))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("value");
        ((Action)(() => _ = ScaledValue.Constant(double.PositiveInfinity))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => _ = ScaledValue.Base("eta", 1e300).Times("m_N", 1e10, 1, "1"))).Should().Throw<ArgumentOutOfRangeException>()
            .Which.Message.Should().Contain("eta * m_N^1").And.Contain("overflows");
        ((Action)(() => _ = ScaledValue.Base("eta", 1).DividedBy("zero", 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("divisor");
    }

    [Fact]
    public void The_engine_is_safe_to_call_from_many_threads()
    {
        // 8 threads x 200 setups each, every result compared with the same setup computed on one thread.
        var setups = Enumerable.Range(0, 200).Select(i => TestSupport.Setup(Parameterization.WithDepthExponent(0.5 + (i % 51) / 100.0),
            32 * (1 + i % 4), 1 + i % 3, 32 * (1 + i % 7), 1 + i % 11, 32, lr: 1e-3 * (1 + i), weightDecay: 0.01 * (i % 5))).ToList();
        var expected = setups.Select(s => PlanJson.SerializeRoleSummary(RulesEngine.Compute(s))).ToList();
        var results = new string[8][];
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var mine = new string[setups.Count];
            for (int i = 0; i < setups.Count; i++)
            {
                int k = (i + t * 25) % setups.Count; // each thread in another order
                mine[k] = PlanJson.SerializeRoleSummary(RulesEngine.Compute(new RuleSetup(setups[k].Parameterization, setups[k].BaseShape, setups[k].Target,
                    setups[k].HeadDim, setups[k].Hyperparameters, setups[k].Options)));
            }

            results[t] = mine;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results)
        {
            r.Should().Equal(expected);
        }
    }
}
