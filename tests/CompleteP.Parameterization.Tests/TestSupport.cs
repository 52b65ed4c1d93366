using FluentAssertions;

namespace CompleteP.Tests.Engine;


// Helpers shared by the tests.
internal static class TestSupport
{
    public static RuleSetup Setup(
        Parameterization parameterization,
        int baseWidth, int baseDepth, int width, int depth, int headDim,
        double lr = 0.01, double initStd = 0.02, double weightDecay = 0.1, double eps = 1e-8,
        RuleOptions? options = null) =>
        new(parameterization, new ModelShape(baseWidth, baseDepth), new ModelShape(width, depth), headDim,
            new BaseHyperparameters(lr, initStd, weightDecay, eps), options);

    public static RuleSet Rules(
        Parameterization parameterization,
        int baseWidth, int baseDepth, int width, int depth, int headDim,
        double lr = 0.01, double initStd = 0.02, double weightDecay = 0.1, double eps = 1e-8,
        RuleOptions? options = null) =>
        RulesEngine.Compute(Setup(parameterization, baseWidth, baseDepth, width, depth, headDim, lr, initStd, weightDecay, eps, options));

    // Asserts |actual - expected| <= rel * |expected| (exact equality when expected is 0).
    public static void ShouldBeRelative(this double actual, double expected, double rel = 1e-9, string what = "")
    {
        if (expected == 0)
        {
            actual.Should().Be(0, "{0} should be exactly 0", what);
            return;
        }

        double.IsFinite(actual).Should().BeTrue("{0} = {1} should be finite", what, actual);
        Math.Abs(actual - expected).Should().BeLessThanOrEqualTo(rel * Math.Abs(expected),
            "{0} = {1:R} should equal {2:R} to relative {3}", what, actual, expected, rel);
    }

    // Checks every number of one rule.
    public static void ShouldHave(this TensorRule rule, InitKind initKind, double init, double lr, double wd, double eps, double rel = 1e-12)
    {
        string name = rule.Role + (rule.IsBias ? " bias" : string.Empty);
        rule.InitKind.Should().Be(initKind, "{0} init kind", name);
        rule.InitValue.ShouldBeRelative(init, rel, name + " init");
        rule.LearningRate.ShouldBeRelative(lr, rel, name + " learning rate");
        rule.WeightDecay.ShouldBeRelative(wd, rel, name + " weight decay");
        rule.AdamEpsilon.ShouldBeRelative(eps, rel, name + " adam epsilon");
    }
}
