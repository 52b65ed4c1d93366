using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// Bad input: the exception type, the parameter it names, and a message that states the value and the valid range.
public sealed class BadInputTests
{
    private static BaseHyperparameters Hp => new(0.01, 0.02, 0.1, 1e-8);

    [Theory]
    [InlineData(0, 4, "width", "0")]
    [InlineData(-3, 4, "width", "-3")]
    [InlineData(64, 0, "depth", "0")]
    [InlineData(64, -1, "depth", "-1")]
    public void ModelShape_rejects_non_positive_sizes(int width, int depth, string param, string value)
    {
        var act = () => new ModelShape(width, depth);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == param && e.Message.Contains("but was " + value) && e.Message.Contains("valid range: 1 and above"));
    }

    [Theory]
    [InlineData(0.49, "0.49")]
    [InlineData(1.01, "1.01")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.0, "0")]
    [InlineData(-1.0, "-1")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void Alpha_outside_range_is_rejected(double alpha, string shown)
    {
        foreach (var act in new Func<Parameterization>[]
                 {
                     () => Parameterization.WithDepthExponent(alpha),
                     () => Parameterization.Parse("completep", alpha),
                     () => Parameterization.Parse("depth-mup", alpha),
                 })
        {
            act.Should().ThrowExactly<ArgumentOutOfRangeException>()
                .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                    e.ParamName == "alpha" && e.Message.Contains("but was " + shown) && e.Message.Contains("[0.5, 1]"));
        }
    }

    [Theory]
    [InlineData("alpha=0.49", "0.49")]
    [InlineData("alpha=1.01", "1.01")]
    public void Alpha_name_outside_range_is_rejected(string name, string shown)
    {
        var act = () => Parameterization.Parse(name);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "alpha" && e.Message.Contains(shown) && e.Message.Contains("[0.5, 1]"));
    }

    [Fact]
    public void Alpha_name_without_a_number_is_rejected()
    {
        var act = () => Parameterization.Parse("alpha=x");
        act.Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("name");
    }

    [Fact]
    public void Alpha_name_and_alpha_that_disagree_are_rejected()
    {
        var act = () => Parameterization.Parse("alpha=0.75", 0.6);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "alpha" && e.Message.Contains("0.6") && e.Message.Contains("alpha=0.75"));
        Parameterization.Parse("alpha=0.75", 0.75).DepthExponent.Should().Be(0.75);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(-0.001, "-0.001")]
    [InlineData(0.0, "0")]
    public void BaseHyperparameters_rejects_bad_learning_rate(double lr, string shown)
    {
        var act = () => new BaseHyperparameters(lr, 0.02, 0.1, 1e-8);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "learningRate" && e.Message.Contains("but was " + shown) && e.Message.Contains("(0, +inf)"));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-1e-8, "-1E-08")]
    [InlineData(double.NaN, "NaN")]
    public void BaseHyperparameters_rejects_bad_epsilon(double eps, string shown)
    {
        var act = () => new BaseHyperparameters(0.01, 0.02, 0.1, eps);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "adamEpsilon" && e.Message.Contains("but was " + shown) && e.Message.Contains("(0, +inf)"));
    }

    [Theory]
    [InlineData(-0.1, "-0.1")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    [InlineData(double.NaN, "NaN")]
    public void BaseHyperparameters_rejects_bad_weight_decay(double wd, string shown)
    {
        var act = () => new BaseHyperparameters(0.01, 0.02, wd, 1e-8);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "weightDecay" && e.Message.Contains("but was " + shown) && e.Message.Contains("[0, +inf)"));
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(-0.02, "-0.02")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void BaseHyperparameters_rejects_bad_init_std(double std, string shown)
    {
        var act = () => new BaseHyperparameters(0.01, std, 0.1, 1e-8);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "initStd" && e.Message.Contains("but was " + shown) && e.Message.Contains("[0, +inf)"));
    }

    [Fact]
    public void BaseHyperparameters_accepts_zero_std_and_zero_weight_decay()
    {
        var hp = new BaseHyperparameters(0.01, 0.0, 0.0, 1e-8);
        hp.InitStd.Should().Be(0);
        hp.WeightDecay.Should().Be(0);
    }

    [Fact]
    public void HeadDim_not_dividing_the_width_is_rejected()
    {
        var act = () => new RuleSetup(Parameterization.CompleteP, new ModelShape(96, 2), new ModelShape(128, 8), 48, Hp);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "headDim" && e.Message.Contains("48") && e.Message.Contains("128"));
    }

    [Fact]
    public void HeadDim_not_dividing_the_base_width_is_rejected()
    {
        var act = () => new RuleSetup(Parameterization.CompleteP, new ModelShape(96, 2), new ModelShape(192, 8), 64, Hp);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "headDim" && e.Message.Contains("64") && e.Message.Contains("96"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16)]
    public void HeadDim_not_positive_is_rejected(int headDim)
    {
        var act = () => new RuleSetup(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(128, 8), headDim, Hp);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == "headDim" && e.Message.Contains("but was " + headDim) && e.Message.Contains("valid range: 1 and above"));
    }

    [Fact]
    public void Setup_rejects_nulls()
    {
        var act = () => new RuleSetup(null!, new ModelShape(64, 2), new ModelShape(128, 8), 16, Hp);
        act.Should().ThrowExactly<ArgumentNullException>().Which.ParamName.Should().Be("parameterization");
        var act2 = () => RulesEngine.Compute(null!);
        act2.Should().ThrowExactly<ArgumentNullException>().Which.ParamName.Should().Be("setup");
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("")]
    [InlineData("completep2")]
    public void Unknown_parameterization_name_lists_valid_names(string name)
    {
        var act = () => Parameterization.Parse(name);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e =>
                e.ParamName == "name" && e.Message.Contains($"'{name}'")
                && e.Message.Contains("sp") && e.Message.Contains("mup") && e.Message.Contains("completep")
                && e.Message.Contains("depth-mup") && e.Message.Contains("alpha=A"));
    }

    [Theory]
    [InlineData("sp")]
    [InlineData("mup")]
    [InlineData("standard")]
    public void Alpha_with_a_parameterization_that_has_no_depth_rules_is_rejected(string name)
    {
        var act = () => Parameterization.Parse(name, 0.7);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e =>
                e.ParamName == "alpha" && e.Message.Contains("0.7") && e.Message.Contains("completep") && e.Message.Contains(name));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(-2.0, "-2")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void Option_multipliers_must_be_positive_and_finite(double value, string shown)
    {
        var acts = new (string Param, Func<RuleOptions> Act)[]
        {
            ("InputMultiplier", () => new RuleOptions { InputMultiplier = value }),
            ("OutputMultiplier", () => new RuleOptions { OutputMultiplier = value }),
            ("AttentionMultiplier", () => new RuleOptions { AttentionMultiplier = value }),
            ("OutputMultiplier", () => RuleOptions.Default with { OutputMultiplier = value }),
        };
        foreach (var (param, act) in acts)
        {
            act.Should().ThrowExactly<ArgumentOutOfRangeException>()
                .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                    e.ParamName == param && e.Message.Contains("but was " + shown) && e.Message.Contains("(0, +inf)"));
        }
    }

    [Fact]
    public void TensorDescriptor_with_only_one_fan_in_is_rejected()
    {
        var onlyFanIn = () => new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 512);
        onlyFanIn.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "baseFanIn" && e.Message.Contains("fanIn and baseFanIn"));

        var onlyBase = () => new TensorDescriptor(TensorRole.HiddenWeight, baseFanIn: 256);
        onlyBase.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "fanIn" && e.Message.Contains("fanIn and baseFanIn"));
    }

    [Theory]
    [InlineData(0, 64, "fanIn", "0")]
    [InlineData(64, -5, "baseFanIn", "-5")]
    public void TensorDescriptor_fan_ins_must_be_positive(long fanIn, long baseFanIn, string param, string shown)
    {
        var act = () => new TensorDescriptor(TensorRole.HiddenWeight, fanIn: fanIn, baseFanIn: baseFanIn);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e =>
                e.ParamName == param && e.Message.Contains("but was " + shown) && e.Message.Contains("valid range: 1 and above"));
    }

    [Fact]
    public void TensorDescriptor_rejects_undefined_role()
    {
        var act = () => new TensorDescriptor((TensorRole)42);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Which.Should().Match<ArgumentOutOfRangeException>(e => e.ParamName == "role" && e.Message.Contains("HiddenWeight"));
    }

    [Fact]
    public void HiddenWeight_that_is_a_bias_is_rejected()
    {
        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 8, 16);
        var act = () => rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isBias: true));
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "tensor" && e.Message.Contains("HiddenBias"));
    }

    [Fact]
    public void Plan_with_duplicate_row_names_is_rejected()
    {
        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 8, 16);
        var rows = new[]
        {
            new PlanRow("transformer.h.0.attn.c_attn.weight", [384, 128], rules[TensorRole.HiddenWeight]),
            new PlanRow("transformer.ln_f.weight", [128], rules[TensorRole.FinalNorm]),
            new PlanRow("transformer.h.0.attn.c_attn.weight", [384, 128], rules[TensorRole.HiddenWeight]),
        };
        var act = () => ParameterizationPlan.Create(rules, rows);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "rows" && e.Message.Contains("'transformer.h.0.attn.c_attn.weight'"));
    }

    [Fact]
    public void PlanRow_rejects_negative_dimension_and_empty_name()
    {
        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 8, 16);
        var negative = () => new PlanRow("w", [3, -1], rules[TensorRole.HiddenWeight]);
        negative.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "shape" && e.Message.Contains("-1"));
        var empty = () => new PlanRow(" ", [3], rules[TensorRole.HiddenWeight]);
        empty.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("name");
    }

    [Fact]
    public void Tensor_width_multiplier_rejects_zero()
    {
        var act = () => ShapeScaling.TensorWidthMultiplier(0, 64);
        act.Should().ThrowExactly<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("fanIn");
    }
}
