using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// A plan is a value: equal when every member is (lists element by element), so a plan read back from JSON equals
// the plan that was written, with == as well as with a deep comparison.
public sealed class PlanEqualityTests
{
    private static ParameterizationPlan Plan(Func<List<PlanRow>, List<PlanRow>>? editRows = null, IEnumerable<MultiplierHook>? hooks = null,
        IEnumerable<string>? attention = null, IEnumerable<PlanDiagnostic>? diagnostics = null)
    {
        var rules = Rules(Parameterization.CompleteP, baseWidth: 64, baseDepth: 2, width: 128, depth: 6, headDim: 32);
        var residual = new FoldedMultiplier(MultiplierKind.Residual, rules.Multipliers.Residual);
        var rows = new List<PlanRow>
        {
            new("wte.weight", [50, 128], rules[TensorRole.Embedding], sharedWith: ["lm_head.weight"]),
            new PlanRow("h.0.attn.c_proj.weight", [128, 128], rules[TensorRole.HiddenWeight], residualBranch: "h.0.attn").Fold(residual),
            new PlanRow("h.0.attn.c_proj.bias", [128], rules[TensorRole.HiddenBias], residualBranch: "h.0.attn").Fold(residual),
            new("ln_f.weight", [128], rules[TensorRole.FinalNorm], trainable: false),
        };
        return ParameterizationPlan.Create(rules, editRows?.Invoke(rows) ?? rows,
            hooks ?? [new MultiplierHook("lm_head", MultiplierKind.Output, rules.Multipliers.Output, HookReason.TiedReadout)],
            attention ?? ["h.0.attn"],
            diagnostics ?? [new PlanDiagnostic(DiagnosticSeverity.Warning, "h.0.buf", "a matrix buffer will not train")]);
    }

    [Fact]
    public void A_plan_read_back_from_json_equals_the_plan_written()
    {
        var plan = Plan();
        var back = PlanJson.Deserialize(PlanJson.Serialize(plan));

        back.Should().NotBeSameAs(plan);
        back.Rows.Should().NotBeSameAs(plan.Rows);
        (back == plan).Should().BeTrue();
        back.Equals(plan).Should().BeTrue();
        back.GetHashCode().Should().Be(plan.GetHashCode());
        back["h.0.attn.c_proj.weight"].Should().Be(plan["h.0.attn.c_proj.weight"]);
        back["h.0.attn.c_proj.weight"].Folded.Should().Be(plan["h.0.attn.c_proj.weight"].Folded);
        back["h.0.attn.c_proj.weight"].Applied.Should().Be(plan["h.0.attn.c_proj.weight"].Applied);
        back.Hooks.Should().Equal(plan.Hooks);
        back.Diagnostics.Should().Equal(plan.Diagnostics);
    }

    [Fact]
    public void Two_plans_built_alike_are_equal_and_every_list_counts()
    {
        Plan().Should().Be(Plan());
        (Plan() == Plan()).Should().BeTrue();

        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 6, 32);
        (Plan(rows => [.. rows.Take(3)]) == Plan()).Should().BeFalse("a row fewer");
        (Plan(rows => [rows[1], rows[0], rows[2], rows[3]]) == Plan()).Should().BeFalse("rows in another order");
        (Plan(rows => [rows[0] with { }, .. rows.Skip(1)]) == Plan()).Should().BeTrue("a copy of a row is equal");
        (Plan(rows => [new("wte.weight", [50, 64], rules[TensorRole.Embedding], sharedWith: ["lm_head.weight"]), .. rows.Skip(1)]) == Plan())
            .Should().BeFalse("a shape differs");
        (Plan(rows => [new("wte.weight", [50, 128], rules[TensorRole.Embedding], sharedWith: ["other"]), .. rows.Skip(1)]) == Plan())
            .Should().BeFalse("another tied name");
        (Plan(hooks: []) == Plan()).Should().BeFalse("no hook");
        (Plan(attention: []) == Plan()).Should().BeFalse("no attention module");
        (Plan(diagnostics: []) == Plan()).Should().BeFalse("no diagnostic");
    }
}
