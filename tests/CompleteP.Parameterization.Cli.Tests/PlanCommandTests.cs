using System.Globalization;
using System.Text.Json;
using CompleteP.Cli;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Cli;

public class PlanCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => Completep.Run(args);

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static TheoryData<string> GoldenCases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference-nanogpt-completep.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Json_format_reproduces_every_role_level_golden_number(string caseName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference-nanogpt-completep.json")));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == caseName);
        var kind = c.GetProperty("parameterization").GetString()!;
        var args = new List<string> { "plan", "--parameterization", kind == "alpha" ? "completep" : kind };
        if (kind != "mup")
        {
            args.AddRange(["--alpha", F(c.GetProperty("alpha").GetDouble())]);
        }

        var b = c.GetProperty("base");
        args.AddRange([
            "--base-width", c.GetProperty("baseWidth").ToString(), "--width", c.GetProperty("width").ToString(),
            "--base-depth", c.GetProperty("baseDepth").ToString(), "--depth", c.GetProperty("depth").ToString(),
            "--head-dim", c.GetProperty("headDim").ToString(),
            "--lr", F(b.GetProperty("learningRate").GetDouble()), "--init-std", F(b.GetProperty("initStd").GetDouble()),
            "--weight-decay", F(b.GetProperty("weightDecay").GetDouble()), "--eps", F(b.GetProperty("adamEpsilon").GetDouble()),
            "--format", "json",
        ]);

        var (code, output, error) = Run([.. args]);

        code.Should().Be(0, error);
        using var actual = JsonDocument.Parse(output);
        var root = actual.RootElement;
        foreach (var key in new[] { "residualMultiplier", "outputMultiplier", "attentionScale" })
        {
            root.GetProperty(key).GetDouble().Should().BeApproximately(c.GetProperty(key).GetDouble(), 1e-9 * Math.Abs(c.GetProperty(key).GetDouble()), key);
        }

        var roles = root.GetProperty("roles");
        roles.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            ["embedding", "hiddenNorm", "hiddenWeight", "hiddenBias", "finalNorm", "unembedding", "qkNorm", "blockReadout"]);
        foreach (var role in c.GetProperty("roles").EnumerateObject())
        {
            foreach (var number in role.Value.EnumerateObject())
            {
                double expected = number.Value.GetDouble();
                double got = roles.GetProperty(role.Name).GetProperty(number.Name).GetDouble();
                got.Should().BeApproximately(expected, 1e-9 * Math.Abs(expected), $"{caseName} {role.Name}.{number.Name}");
            }
        }
    }

    [Fact]
    public void Json_format_prints_exactly_one_object()
    {
        var (code, output, _) = Run("plan", "-p", "completep", "--alpha", "0.75", "--base-width", "96", "--width", "1536", "--base-depth", "3",
            "--depth", "48", "--head-dim", "32", "--lr", "0.006", "--format", "json");
        code.Should().Be(0);
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(output.Trim()));
        JsonDocument.TryParseValue(ref reader, out var doc).Should().BeTrue();
        reader.BytesConsumed.Should().Be(System.Text.Encoding.UTF8.GetByteCount(output.Trim()));
        // alpha 0.75, m_N 16, m_L 16: hidden weight LR = eta / 16 * 16^-0.25
        doc!.RootElement.GetProperty("roles").GetProperty("hiddenWeight").GetProperty("learningRate").GetDouble()
            .Should().BeApproximately(0.006 / 16 * Math.Pow(16, -0.25), 1e-15);
        doc.RootElement.GetProperty("residualMultiplier").GetDouble().Should().BeApproximately(Math.Pow(16, -0.75), 1e-15);
    }

    [Fact]
    public void Table_format_shows_each_number_with_its_formula()
    {
        var (code, output, _) = Run("plan", "-p", "completep", "--base-width", "256", "--width", "2048", "--base-depth", "2", "--depth", "48",
            "--head-dim", "64", "--lr", "6e-3", "--weight-decay", "0.1");
        code.Should().Be(0);
        output.Should().Contain("eta * m_N^-1 * m_L^(alpha-1)").And.Contain("0.00075").And.Contain("0.006 * 8^-1 * 24^0");
        output.Should().Contain("m_L^-alpha").And.Contain("0.0416667");
    }

    [Fact]
    public void Markdown_format_is_a_markdown_table()
    {
        var (code, output, _) = Run("plan", "-p", "mup", "--base-width", "64", "--width", "256", "--base-depth", "4", "--depth", "4",
            "--head-dim", "16", "--lr", "0.01", "--format", "markdown");
        code.Should().Be(0);
        output.Should().Contain("| hidden weight | learning rate | 0.0025 | `eta * m_N^-1` |");
    }

    [Theory]
    [InlineData("--alpha", "0.4", "--alpha", "[0.5, 1]")]
    [InlineData("--alpha", "1.5", "--alpha", "[0.5, 1]")]
    [InlineData("--width", "0", "--width", "1 and above")]
    [InlineData("--width", "-8", "--width", "1 and above")]
    [InlineData("--depth", "0", "--depth", "1 and above")]
    [InlineData("--base-width", "0", "--base-width", "1 and above")]
    [InlineData("--head-dim", "48", "--head-dim", "must divide the width")]
    [InlineData("--lr", "NaN", "--lr", "(0, +inf)")]
    [InlineData("--lr", "Infinity", "--lr", "(0, +inf)")]
    [InlineData("--eps", "0", "--eps", "(0, +inf)")]
    [InlineData("--weight-decay", "-0.1", "--weight-decay", "[0, +inf)")]
    [InlineData("--parameterization", "umup", "umup", "sp, mup, completep, depth-mup")]
    [InlineData("--epsilon-scope", "everywhere", "--epsilon-scope", "residual-blocks, global")]
    [InlineData("--format", "xml", "xml", "table, markdown, json")]
    public void Bad_input_exits_2_with_one_line_naming_the_option_the_value_and_the_range(string option, string value, string named, string range)
    {
        var args = new Dictionary<string, string>
        {
            ["--parameterization"] = "completep", ["--base-width"] = "64", ["--width"] = "128", ["--base-depth"] = "2", ["--depth"] = "8",
            ["--head-dim"] = "16", ["--lr"] = "0.01",
        };
        args[option] = value;
        var (code, output, error) = Run(["plan", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        code.Should().Be(CompletepCli.BadInput);
        output.Should().BeEmpty();
        error.TrimEnd().Split('\n').Should().ContainSingle();
        error.Should().Contain(named).And.Contain(value).And.Contain(range).And.NotContain("   at ");
    }

    [Theory]
    [InlineData("sp")]
    [InlineData("mup")]
    public void Alpha_with_a_parameterization_without_depth_rules_is_refused(string name)
    {
        var (code, _, error) = Run("plan", "-p", name, "--alpha", "0.7", "--base-width", "64", "--width", "128", "--base-depth", "2",
            "--depth", "8", "--head-dim", "16", "--lr", "0.01");
        code.Should().Be(2);
        error.Should().StartWith("completep: --alpha:").And.Contain("0.7").And.Contain(name);
    }

    [Fact]
    public void A_missing_required_option_is_refused()
    {
        var (code, _, error) = Run("plan", "-p", "completep", "--width", "128");
        code.Should().Be(2);
        error.Should().Contain("--base-width");
    }
}
