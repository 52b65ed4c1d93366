using System.Text.Json;
using FluentAssertions;

namespace CompleteP.Tests.Engine;


// The rules engine against values computed by the authors' reference implementation
// (Data/reference-nanogpt-completep.json, a copy of shared/golden).
public sealed class GoldenTests
{
    private const double Rel = 1e-9;

    private static readonly string[] RoleKeys = ["embedding", "hiddenNorm", "hiddenWeight", "hiddenBias", "finalNorm", "unembedding"];

    private static readonly Lazy<JsonDocument> Golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference-nanogpt-completep.json"))));

    private static string[] Names() =>
        Golden.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();

    public static TheoryData<string> CaseNames() => new(Names());

    private static JsonElement Case(string name) =>
        Golden.Value.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static RuleSetup SetupOf(JsonElement c)
    {
        double? alpha = c.GetProperty("alpha").ValueKind == JsonValueKind.Null ? null : c.GetProperty("alpha").GetDouble();
        Parameterization p = c.GetProperty("parameterization").GetString() switch
        {
            "completep" => Parameterization.Parse("completep", alpha),
            "alpha" => Parameterization.WithDepthExponent(alpha!.Value),
            "mup" => Parameterization.Parse("mup"),
            var other => throw new InvalidOperationException($"unexpected parameterization {other} in the golden file"),
        };
        var hp = c.GetProperty("base");
        return new RuleSetup(
            p,
            new ModelShape(c.GetProperty("baseWidth").GetInt32(), c.GetProperty("baseDepth").GetInt32()),
            new ModelShape(c.GetProperty("width").GetInt32(), c.GetProperty("depth").GetInt32()),
            c.GetProperty("headDim").GetInt32(),
            new BaseHyperparameters(
                hp.GetProperty("learningRate").GetDouble(),
                hp.GetProperty("initStd").GetDouble(),
                hp.GetProperty("weightDecay").GetDouble(),
                hp.GetProperty("adamEpsilon").GetDouble()));
    }

    private static TensorRole RoleOf(string key) => Enum.Parse<TensorRole>(key, ignoreCase: true);

    [Fact]
    public void Golden_file_holds_the_three_expected_cases()
    {
        var names = Names();
        names.Should().HaveCount(3);
        var kinds = Golden.Value.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => c.GetProperty("parameterization").GetString()).ToArray();
        kinds.Should().BeEquivalentTo(["completep", "alpha", "mup"]);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Model_multipliers_match_reference(string name)
    {
        var c = Case(name);
        var rules = RulesEngine.Compute(SetupOf(c));

        rules.Multipliers.Residual.Value.ShouldBeRelative(c.GetProperty("residualMultiplier").GetDouble(), Rel, "residual multiplier");
        rules.Multipliers.Output.Value.ShouldBeRelative(c.GetProperty("outputMultiplier").GetDouble(), Rel, "output multiplier");
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(c.GetProperty("attentionScale").GetDouble(), Rel, "attention scale");
        rules.Multipliers.Embedding.Value.Should().Be(1.0);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_role_matches_reference(string name)
    {
        var c = Case(name);
        var rules = RulesEngine.Compute(SetupOf(c));
        var roles = c.GetProperty("roles");

        foreach (var key in RoleKeys)
        {
            var expected = roles.GetProperty(key);
            var rule = rules[RoleOf(key)];
            rule.LearningRate.ShouldBeRelative(expected.GetProperty("learningRate").GetDouble(), Rel, key + ".learningRate");
            rule.WeightDecay.ShouldBeRelative(expected.GetProperty("weightDecay").GetDouble(), Rel, key + ".weightDecay");
            rule.AdamEpsilon.ShouldBeRelative(expected.GetProperty("adamEpsilon").GetDouble(), Rel, key + ".adamEpsilon");
            if (expected.TryGetProperty("initStd", out var std))
            {
                rule.InitKind.Should().Be(InitKind.Normal, "{0} has initStd in the golden file", key);
                rule.InitValue.ShouldBeRelative(std.GetDouble(), Rel, key + ".initStd");
            }
            else
            {
                rule.InitKind.Should().Be(InitKind.Constant, "{0} has initValue in the golden file", key);
                rule.InitValue.ShouldBeRelative(expected.GetProperty("initValue").GetDouble(), Rel, key + ".initValue");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Role_summary_json_matches_reference(string name)
    {
        var c = Case(name);
        var rules = RulesEngine.Compute(SetupOf(c));
        using var summary = JsonDocument.Parse(PlanJson.SerializeRoleSummary(rules));
        var root = summary.RootElement;

        root.GetProperty("parameterization").GetString().Should().Be(rules.Setup.Parameterization.Name);
        if (c.GetProperty("alpha").ValueKind == JsonValueKind.Null)
        {
            root.GetProperty("alpha").ValueKind.Should().Be(JsonValueKind.Null);
        }
        else
        {
            root.GetProperty("alpha").GetDouble().Should().Be(c.GetProperty("alpha").GetDouble());
        }

        root.GetProperty("widthMultiplier").GetDouble().ShouldBeRelative(
            (double)c.GetProperty("width").GetInt32() / c.GetProperty("baseWidth").GetInt32(), Rel, "widthMultiplier");
        root.GetProperty("depthMultiplier").GetDouble().ShouldBeRelative(
            (double)c.GetProperty("depth").GetInt32() / c.GetProperty("baseDepth").GetInt32(), Rel, "depthMultiplier");
        foreach (var key in new[] { "residualMultiplier", "outputMultiplier", "attentionScale" })
        {
            root.GetProperty(key).GetDouble().ShouldBeRelative(c.GetProperty(key).GetDouble(), Rel, key);
        }

        root.GetProperty("embeddingMultiplier").GetDouble().Should().Be(1.0);

        var roles = root.GetProperty("roles");
        // Table 1's six roles, which the reference knows, then the roles of modules Table 1 does not name.
        roles.EnumerateObject().Select(p => p.Name).Should().Equal([.. RoleKeys, "qkNorm", "blockReadout"]);
        foreach (var key in RoleKeys)
        {
            var expected = c.GetProperty("roles").GetProperty(key);
            var actual = roles.GetProperty(key);
            actual.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
                expected.EnumerateObject().Select(p => p.Name).Concat(["beta1", "beta2"]), "role {0} has the golden file's keys and the betas", key);
            actual.GetProperty("beta1").GetDouble().Should().Be(0.9, "PyTorch's default base beta1, with no training shapes");
            actual.GetProperty("beta2").GetDouble().Should().Be(0.999, "PyTorch's default base beta2, with no training shapes");
            foreach (var prop in expected.EnumerateObject())
            {
                actual.GetProperty(prop.Name).GetDouble().ShouldBeRelative(prop.Value.GetDouble(), Rel, key + "." + prop.Name);
            }
        }
    }

    [Fact]
    public void Role_summary_json_has_exactly_the_documented_keys()
    {
        string name = Names()[0];
        // PlanJson.SerializeRoleSummary's documentation and docs/plan-json.md.
        var rules = RulesEngine.Compute(SetupOf(Case(name)));
        using var summary = JsonDocument.Parse(PlanJson.SerializeRoleSummary(rules));
        summary.RootElement.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            "parameterization", "alpha", "baseWidth", "width", "baseDepth", "depth", "headDim", "widthMultiplier", "depthMultiplier", "residualMultiplier",
            "outputMultiplier", "embeddingMultiplier", "attentionScale", "baseTokensPerStep", "tokensPerStep", "baseTokens", "tokens", "batchMultiplier",
            "stepMultiplier", "timescaleExponent", "moduleHyperparameters", "branchResidualMultipliers", "roles", "warnings");
    }

    [Fact]
    public void Role_summary_is_indented_only_when_asked()
    {
        var rules = RulesEngine.Compute(SetupOf(Case(Names()[0])));
        PlanJson.SerializeRoleSummary(rules, indented: false).Should().NotContain("\n");
        PlanJson.SerializeRoleSummary(rules, indented: true).Should().Contain("\n");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_parameter_of_the_reference_model_matches(string name)
    {
        var c = Case(name);
        var setup = SetupOf(c);
        var rules = RulesEngine.Compute(setup);
        int width = setup.Target.Width, baseWidth = setup.BaseShape.Width;
        int count = 0;

        foreach (var p in c.GetProperty("parameters").EnumerateArray())
        {
            string pname = p.GetProperty("name").GetString()!;
            var role = RoleOf(p.GetProperty("role").GetString()!);
            var shape = p.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            bool isBias = pname.EndsWith(".bias", StringComparison.Ordinal);
            TensorDescriptor descriptor = role == TensorRole.HiddenWeight
                ? new TensorDescriptor(role, isBias, fanIn: shape[1], baseFanIn: shape[1] * baseWidth / width)
                : new TensorDescriptor(role, isBias);
            var rule = rules.RuleFor(descriptor);

            rule.LearningRate.ShouldBeRelative(p.GetProperty("learningRate").GetDouble(), Rel, pname + " learningRate");
            rule.WeightDecay.ShouldBeRelative(p.GetProperty("weightDecay").GetDouble(), Rel, pname + " weightDecay");
            rule.AdamEpsilon.ShouldBeRelative(p.GetProperty("adamEpsilon").GetDouble(), Rel, pname + " adamEpsilon");

            double measured = p.GetProperty("measuredInitStd").GetDouble();
            if (rule.InitKind == InitKind.Normal)
            {
                // A sample std of >= 4096 draws lies within a few percent of the rule's std.
                measured.Should().BeApproximately(rule.InitValue, 0.05 * rule.InitValue, "measured init std of {0}", pname);
            }
            else
            {
                measured.Should().Be(0.0, "{0} is filled with a constant", pname);
                rule.InitValue.Should().Be(isBias ? 0.0 : 1.0, "{0} init constant", pname);
            }

            count++;
        }

        count.Should().BeGreaterThan(10);
    }
}
