using System.Text.Json;
using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// ParameterizationPlan to JSON and back without loss.
public sealed class PlanJsonRoundTripTests
{
    private static ParameterizationPlan SamplePlan(Parameterization parameterization, RuleOptions options,
        int baseWidth = 96, int width = 384, int baseDepth = 3, int depth = 12, int headDim = 32)
    {
        var rules = Rules(parameterization, baseWidth, baseDepth, width, depth, headDim, 0.006, 0.02, 0.05, 1e-8, options);
        var rows = new List<PlanRow>
        {
            new("transformer.wte.weight", [65, width], rules[TensorRole.Embedding], sharedWith: ["lm_head.weight"]),
            new("transformer.wpe.weight", [256, width], rules[TensorRole.Embedding]),
            new("transformer.h.0.ln_1.weight", [width], rules[TensorRole.HiddenNorm], residualBranch: "transformer.h.0.attn"),
            new("transformer.h.0.ln_1.bias", [width], rules.RuleFor(new TensorDescriptor(TensorRole.HiddenNorm, isBias: true)),
                residualBranch: "transformer.h.0.attn"),
            new("transformer.h.0.attn.c_attn.weight", [3 * width, width], rules[TensorRole.HiddenWeight], residualBranch: "transformer.h.0.attn"),
            new("transformer.h.0.attn.c_attn.bias", [3 * width], rules[TensorRole.HiddenBias], residualBranch: "transformer.h.0.attn"),
            new("transformer.h.0.mlp.c_proj.weight", [width, 4 * width],
                rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 4 * width, baseFanIn: 4 * baseWidth, isResidualOutputProjection: true)),
                residualBranch: "transformer.h.0.mlp"),
            new("transformer.h.0.mlp.gate.weight", [width, width],
                rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 7, baseFanIn: 3)),
                residualBranch: "transformer.h.0.mlp"),
            new("transformer.ln_f.weight", [width], rules[TensorRole.FinalNorm]),
            new("transformer.ln_f.bias", [width], rules.RuleFor(new TensorDescriptor(TensorRole.FinalNorm, isBias: true))),
            new("lm_head.bias", [65], rules.RuleFor(new TensorDescriptor(TensorRole.Unembedding, isBias: true))),
            new("empty", [0, width], rules[TensorRole.Unembedding], sharedWith: ["a", "b"]),
            new("transformer.h.0.frozen_gain", [width], rules[TensorRole.HiddenNorm], residualBranch: "transformer.h.0.attn", trainable: false),
        };
        return ParameterizationPlan.Create(rules, rows);
    }

    private static readonly RuleOptions NonDefault = new()
    {
        EpsilonScope = EpsilonScope.Global,
        WeightDecayConvention = WeightDecayConvention.Independent,
        InputMultiplier = 1.5,
        OutputMultiplier = 0.3,
        AttentionMultiplier = 2.0 / 3.0,
    };

    public static TheoryData<string> Names() => new() { "alpha=0.75", "completep", "depth-mup", "mup", "alpha=0.6180339887498949" };

    [Theory]
    [MemberData(nameof(Names))]
    public void Round_trip_is_lossless(string name)
    {
        var plan = SamplePlan(Parameterization.Parse(name), NonDefault);
        string json = PlanJson.Serialize(plan);
        var back = PlanJson.Deserialize(json);

        back.Should().BeEquivalentTo(plan, o => o.WithStrictOrdering());
        PlanJson.Serialize(back).Should().Be(json);
        back.Setup.Should().Be(plan.Setup);
        back.Rows.Should().HaveCount(plan.Rows.Count);
        for (int i = 0; i < plan.Rows.Count; i++)
        {
            back.Rows[i].Rule.Should().Be(plan.Rows[i].Rule, "row {0}'s rule is a record of scalars", plan.Rows[i].Name);
        }
    }

    [Fact]
    public void Alpha_075_plan_keeps_its_parameterization_options_and_rows()
    {
        var plan = SamplePlan(Parameterization.WithDepthExponent(0.75), NonDefault);
        string json = PlanJson.Serialize(plan);
        var back = PlanJson.Deserialize(json);

        back.Setup.Parameterization.Should().Be(Parameterization.WithDepthExponent(0.75));
        back.Setup.Parameterization.Kind.Should().Be(ParameterizationKind.DepthScaled);
        back.Setup.Parameterization.DepthExponent.Should().Be(0.75);
        back.Setup.Parameterization.Name.Should().Be("alpha=0.75");
        back.Setup.Options.Should().Be(NonDefault);
        back.Setup.Options.EpsilonScope.Should().Be(EpsilonScope.Global);
        back.Setup.Options.WeightDecayConvention.Should().Be(WeightDecayConvention.Independent);
        back.Setup.Options.AttentionMultiplier.Should().Be(2.0 / 3.0);
        back["transformer.wte.weight"].SharedWith.Should().Equal("lm_head.weight");
        back["transformer.h.0.mlp.c_proj.weight"].ResidualBranch.Should().Be("transformer.h.0.mlp");
        back["transformer.h.0.mlp.c_proj.weight"].Shape.Should().Equal(384, 1536);
        back["transformer.h.0.mlp.gate.weight"].Rule.WidthMultiplier.Should().Be(7.0 / 3.0);
        back["transformer.ln_f.weight"].ResidualBranch.Should().BeNull();
        back["transformer.ln_f.weight"].SharedWith.Should().BeEmpty();
        back["empty"].ElementCount.Should().Be(0);
        back["transformer.h.0.frozen_gain"].Trainable.Should().BeFalse();
        back["transformer.wpe.weight"].Trainable.Should().BeTrue();
        back.Multipliers.Should().Be(plan.Multipliers);

        using var doc = JsonDocument.Parse(json);
        doc.RootElement.GetProperty("setup").GetProperty("parameterization").GetString().Should().Be("alpha=0.75");
        doc.RootElement.GetProperty("setup").GetProperty("options").GetProperty("epsilonScope").GetString().Should().Be("global");
    }

    [Fact]
    public void SP_plan_with_gpt2_init_round_trips()
    {
        var options = new RuleOptions { Gpt2OutputProjectionInit = true, OutputMultiplier = 4 };
        var plan = SamplePlan(Parameterization.Standard, options, baseWidth: 128, width: 256, headDim: 64);
        string json = PlanJson.Serialize(plan);
        var back = PlanJson.Deserialize(json);
        back.Should().BeEquivalentTo(plan, o => o.WithStrictOrdering());
        back.Setup.Options.Gpt2OutputProjectionInit.Should().BeTrue();
        back["transformer.h.0.mlp.c_proj.weight"].Rule.InitValue.ShouldBeRelative(0.02 / Math.Sqrt(24), 1e-12, "gpt2 std");
        PlanJson.Serialize(back).Should().Be(json);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.75)]
    [InlineData(1.0)]
    [InlineData(0.1 + 0.2 + 0.4)]
    [InlineData(0.5000000000000001)]
    [InlineData(0.9999999999999999)]
    public void Parameterization_with_alpha_round_trips_exactly(double alpha)
    {
        var p = Parameterization.WithDepthExponent(alpha);
        var plan = SamplePlan(p, RuleOptions.Default);
        var back = PlanJson.Deserialize(PlanJson.Serialize(plan));
        back.Setup.Parameterization.DepthExponent.Should().Be(alpha);
        back.Setup.Parameterization.Should().Be(p);
        Parameterization.Parse(p.Name).Should().Be(p);
    }

    [Fact]
    public void Plan_indexer_and_table()
    {
        var plan = SamplePlan(Parameterization.CompleteP, RuleOptions.Default);
        plan["transformer.h.0.attn.c_attn.weight"].Rule.Role.Should().Be(TensorRole.HiddenWeight);
        var act = () => plan["nope"];
        act.Should().Throw<KeyNotFoundException>().WithMessage("*nope*");
        string table = plan.ToTable(withFormulas: true);
        table.Should().Contain("transformer.wte.weight (= lm_head.weight)").And.Contain("eta * m_N^-1 * m_L^(alpha-1)");
    }

    [Fact]
    public void Deserialize_rejects_an_unknown_parameterization()
    {
        string json = PlanJson.Serialize(SamplePlan(Parameterization.CompleteP, RuleOptions.Default))
            .Replace("\"completep\"", "\"foo\"", StringComparison.Ordinal);
        var act = () => PlanJson.Deserialize(json);
        act.Should().Throw<JsonException>().WithMessage("*foo*");
    }

    [Fact]
    public void Deserialize_rejects_null()
    {
        var act = () => PlanJson.Deserialize("null");
        act.Should().Throw<JsonException>();
    }
}
