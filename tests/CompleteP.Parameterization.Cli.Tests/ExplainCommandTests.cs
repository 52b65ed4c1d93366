using System.Text.Json;
using CompleteP.Cli;
using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Cli.Completep;

namespace CompleteP.Tests.Cli;

public class ExplainCommandTests
{
    private static readonly string[] Setup =
        ["-p", "completep", "--base-width", "256", "--width", "2048", "--base-depth", "2", "--depth", "48", "--lr", "6e-3", "--weight-decay", "0.1"];

    private static JsonElement Json(params string[] args)
    {
        var (code, output, error) = Run([.. args, "--format", "json"]);
        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void A_hidden_weight_learning_rate_shows_formula_numbers_symbols_value_and_source()
    {
        var (code, output, error) = Run(["explain", "hidden-weight", "--quantity", "learning-rate", .. Setup]);

        code.Should().Be(0, error);
        output.Should().Contain("hidden-weight: learning rate = 0.00075")
            .And.Contain("formula  eta * m_N^-1 * m_L^(alpha-1)")
            .And.Contain("numbers  0.006 * 8^-1 * 24^0")
            .And.Contain("eta   = 0.006  base learning rate (--lr)")
            .And.Contain("m_N   = 8      width multiplier N / N_base = 2048 / 256")
            .And.Contain("m_L   = 24     depth multiplier L / L_base = 48 / 2")
            .And.Contain("alpha = 1      depth exponent of completep (--alpha)")
            .And.Contain("source   Dey et al. 2025, Table 1, hidden weight (completep)")
            .And.Contain("docs/rules.md, \"Depth-scaled muP (any alpha; CompleteP is alpha = 1)\"");
        output.Should().NotContain("weight decay", "one quantity was asked for");
    }

    [Fact]
    public void Every_number_explain_gives_is_the_number_plan_gives()
    {
        var explained = Json(["explain", .. Setup, "--head-dim", "64"]).GetProperty("explanations").EnumerateArray()
            .ToDictionary(e => (e.GetProperty("subject").GetString()!, e.GetProperty("quantity").GetString()!), e => e.GetProperty("value").GetDouble());
        var (code, planOutput, _) = Run(["plan", .. Setup, "--head-dim", "64", "--format", "json"]);
        code.Should().Be(0);
        using var plan = JsonDocument.Parse(planOutput);
        var roles = plan.RootElement.GetProperty("roles");

        explained.Should().HaveCount(4 + (8 * 4), "four multipliers and four numbers for each of eight roles (Table 1's six, QK-norm and block readout)");
        foreach (var (subject, key) in new[] { ("hidden-weight", "hiddenWeight"), ("embedding", "embedding"), ("hidden-norm", "hiddenNorm"), ("unembedding", "unembedding"), ("final-norm", "finalNorm"), ("hidden-bias", "hiddenBias") })
        {
            var role = roles.GetProperty(key);
            explained[(subject, "learning rate")].Should().BeApproximately(role.GetProperty("learningRate").GetDouble(), 1e-18, subject);
            explained[(subject, "weight decay")].Should().BeApproximately(role.GetProperty("weightDecay").GetDouble(), 1e-18, subject);
            explained[(subject, "adam epsilon")].Should().BeApproximately(role.GetProperty("adamEpsilon").GetDouble(), 1e-24, subject);
        }

        explained[("residual-multiplier", "residual multiplier")].Should().BeApproximately(plan.RootElement.GetProperty("residualMultiplier").GetDouble(), 1e-15);
        explained[("attention-scale", "attention scale")].Should().BeApproximately(1.0 / 64, 1e-15);
        explained[("hidden-weight", "init std")].Should().BeApproximately(0.02 / Math.Sqrt(8), 1e-15);
    }

    [Theory]
    [InlineData("completep", "residual-multiplier", 1.0 / 24, "1 * m_L^-alpha", "x + m_L^-alpha * branch(LN(x))")]
    [InlineData("mup", "residual-multiplier", 1.0, "1", "mup has no depth rules")]
    [InlineData("completep", "output-multiplier", 1.0 / 8, "alpha_out * m_N^-1", "unembedding forward multiplier")]
    [InlineData("sp", "output-multiplier", 1.0, "alpha_out", "unembedding forward multiplier")]
    [InlineData("sp", "attention-scale", 0.125, "alpha_attn / sqrt(d_head)", "SP: attention logits")]
    [InlineData("mup", "attention-scale", 1.0 / 64, "alpha_attn / d_head", "Tensor Programs V")]
    public void A_multiplier_is_explained_with_its_own_source(string parameterization, string multiplier, double value, string formula, string source)
    {
        var e = Json("explain", multiplier, "-p", parameterization, "--base-width", "256", "--width", "2048", "--base-depth", "2", "--depth", "48",
            "--lr", "0.006", "--head-dim", "64").GetProperty("explanations").EnumerateArray().Should().ContainSingle().Subject;

        e.GetProperty("value").GetDouble().Should().BeApproximately(value, 1e-15);
        e.GetProperty("formula").GetString().Should().Be(formula);
        e.GetProperty("source").GetString().Should().Contain(source);
    }

    [Fact]
    public void A_fan_in_that_scales_unlike_the_width_gives_the_tensor_its_own_width_multiplier()
    {
        var e = Json(["explain", "hidden-weight", "-q", "learning-rate", "--fan-in", "4096", "--base-fan-in", "1024", .. Setup])
            .GetProperty("explanations")[0];

        e.GetProperty("value").GetDouble().Should().BeApproximately(0.006 / 4, 1e-15);
        e.GetProperty("symbols").EnumerateArray().Single(s => s.GetProperty("symbol").GetString() == "m_N")
            .GetProperty("meaning").GetString().Should().Contain("fan_in / base_fan_in = 4096 / 1024");
    }

    [Fact]
    public void A_bias_has_its_own_rule()
    {
        var e = Json(["explain", "unembedding", "--bias", .. Setup]).GetProperty("explanations").EnumerateArray().ToList();

        e.Select(x => x.GetProperty("subject").GetString()).Should().AllBe("unembedding (bias)");
        e.Single(x => x.GetProperty("quantity").GetString() == "init value").GetProperty("value").GetDouble().Should().Be(0);
        e.Single(x => x.GetProperty("quantity").GetString() == "weight decay").GetProperty("value").GetDouble().Should().Be(0);
    }

    [Fact]
    public void Quantity_alone_explains_it_for_every_role()
    {
        var e = Json(["explain", "--quantity", "adam-epsilon", "--epsilon-scope", "global", .. Setup]).GetProperty("explanations").EnumerateArray().ToList();

        e.Select(x => x.GetProperty("subject").GetString()).Should().Equal(RuleExplainer.Roles);
        e.Should().OnlyContain(x => x.GetProperty("quantity").GetString() == "adam epsilon");
        e.Should().OnlyContain(x => x.GetProperty("rulesSections").EnumerateArray().Any(s => s.GetString() == RuleExplainer.DifferencesSection),
            "the global epsilon scope is the reference code's, listed among the differences");
        e[0].GetProperty("value").GetDouble().Should().BeApproximately(1e-8 / 8 / 24, 1e-24, "the global scope scales the embedding's epsilon too");
    }

    [Fact]
    public void Every_rules_section_it_names_is_a_heading_of_docs_rules_md()
    {
        var headings = File.ReadAllLines(RepositoryFile("docs/rules.md")).Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l[3..].Trim()).ToList();

        headings.Should().Contain([RuleExplainer.TableSection, RuleExplainer.DifferencesSection, RuleExplainer.OptionsSection]);
    }

    [Theory]
    [InlineData(new[] { "attention-scale" }, "--head-dim")]
    [InlineData(new[] { "residual-multiplier", "--quantity", "init" }, "--quantity")]
    [InlineData(new[] { "hidden-weight", "--fan-in", "4096" }, "--base-fan-in")]
    [InlineData(new[] { "hidden-weight", "--fan-in", "0", "--base-fan-in", "8" }, "--fan-in")]
    [InlineData(new[] { "embedding", "--fan-in", "64", "--base-fan-in", "8" }, "--fan-in")]
    [InlineData(new[] { "hidden-weight", "--bias" }, "--bias")]
    [InlineData(new[] { "hidden-width" }, "hidden-width")]
    [InlineData(new[] { "embedding", "--quantity", "momentum" }, "momentum")]
    public void Bad_input_exits_2_with_one_line_naming_the_option(string[] args, string named)
    {
        var (code, output, error) = Run(["explain", .. args, .. Setup]);

        code.Should().Be(CompletepCli.BadInput);
        output.Should().BeEmpty();
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(named);
    }
}
