using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// The plan's table shows what was applied: a tensor's numbers are its applied rule's, and a forward multiplier appears
// only where it acts (folded into tensors, or a hook), never as a column of tensors it does not touch.
public sealed class PlanTableTests
{
    [Fact]
    public void Only_the_multipliers_that_act_are_listed_with_where_they_act()
    {
        var rules = Rules(Parameterization.CompleteP, baseWidth: 64, baseDepth: 2, width: 128, depth: 8, headDim: 32, lr: 0.01);
        var residual = new FoldedMultiplier(MultiplierKind.Residual, rules.Multipliers.Residual);
        var plan = ParameterizationPlan.Create(rules,
        [
            new("wte.weight", [50, 128], rules[TensorRole.Embedding], sharedWith: ["lm_head.weight"]),
            new("h.0.ln_1.weight", [128], rules[TensorRole.HiddenNorm], residualBranch: "h.0.attn"),
            new PlanRow("h.0.attn.c_proj.weight", [128, 128], rules[TensorRole.HiddenWeight], residualBranch: "h.0.attn").Fold(residual),
            new PlanRow("h.0.attn.c_proj.bias", [128], rules[TensorRole.HiddenBias], residualBranch: "h.0.attn").Fold(residual),
        ], hooks: [new MultiplierHook("lm_head", MultiplierKind.Output, rules.Multipliers.Output, HookReason.TiedReadout)]);

        var lines = plan.ToTable().Split('\n');
        lines.Should().Contain("residual multiplier 1 * m_L^-alpha = 1 * 4^-1 = 0.25: folded into 2 tensors");
        lines.Should().Contain("output multiplier alpha_out * m_N^-1 = 1 * 2^-1 = 0.5: hook on 'lm_head' (x0.5)");
        lines.Should().NotContain(l => l.StartsWith("embedding multiplier", StringComparison.Ordinal), "alpha_in = 1 acts nowhere");
        lines.Should().Contain(l => l.StartsWith("attention scale", StringComparison.Ordinal) && l.EndsWith("not set by the library (see diagnostics)", StringComparison.Ordinal));

        // A hidden norm carries no multiplier; the folded projection shows c and its applied (folded) learning rate.
        string norm = lines.Single(l => l.StartsWith("h.0.ln_1.weight", StringComparison.Ordinal));
        norm.TrimEnd().Should().EndWith("-");
        string projection = lines.Single(l => l.StartsWith("h.0.attn.c_proj.weight", StringComparison.Ordinal));
        projection.Should().Contain("x0.25 (residual)").And.Contain(Formatted(0.01 / 2 * Math.Pow(4, 0) * 0.25));
        projection.Should().NotContain(Formatted(0.01 / 2), "the table shows the applied learning rate, not Table 1's before folding");
    }

    [Fact]
    public void A_plan_with_nothing_folded_or_hooked_lists_no_multiplier()
    {
        var rules = Rules(Parameterization.MuP, baseWidth: 64, baseDepth: 2, width: 128, depth: 8, headDim: 32);
        var plan = ParameterizationPlan.Create(rules, [new("h.0.mlp.c_fc.weight", [512, 128], rules[TensorRole.HiddenWeight], residualBranch: "h.0.mlp")]);
        plan.ToTable().Should().NotContain(" multiplier ");
    }

    private static string Formatted(double v) => ScaledValue.Format(v);
}
