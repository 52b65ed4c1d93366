using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Cli;

/// <summary><c>--hp</c> and <c>--hp-file</c>: per-module base hyperparameters on the command line.</summary>
public class HpOptionTests
{
    // CompleteP 64x2 -> 256x8: m_N = 4, m_L = 4.
    private static readonly string[] Setup =
        ["plan", "-p", "completep", "--base-width", "64", "--width", "256", "--base-depth", "2", "--depth", "8", "--head-dim", "16", "--lr", "0.01", "--init-std", "0.02", "--weight-decay", "0.1"];

    private static JsonElement Roles(string output) => JsonDocument.Parse(output).RootElement.GetProperty("roles").Clone();

    [Fact]
    public void Hp_multiplies_the_base_values_of_the_selected_roles_and_leaves_the_rest()
    {
        var (plainCode, plainOut, plainErr) = Completep.Run([.. Setup, "--format", "json"]);
        var (code, output, error) = Completep.Run([.. Setup, "--hp", "embedding.lr=2", "--hp", "hidden-weight.init=0.5", "--hp", "layers.*.mlp.*.wd=3", "--format", "json"]);
        plainCode.Should().Be(0, plainErr);
        code.Should().Be(0, error);
        var plain = Roles(plainOut);
        var tuned = Roles(output);
        tuned.GetProperty("embedding").GetProperty("learningRate").GetDouble().Should().Be(0.02);
        tuned.GetProperty("hiddenWeight").GetProperty("initStd").GetDouble().Should().Be(0.5 * 0.02 / 2);
        tuned.GetProperty("hiddenWeight").GetProperty("initStd").GetDouble().Should().Be(0.5 * plain.GetProperty("hiddenWeight").GetProperty("initStd").GetDouble());
        tuned.GetProperty("hiddenWeight").GetProperty("weightDecay").GetDouble().Should().Be(plain.GetProperty("hiddenWeight").GetProperty("weightDecay").GetDouble(),
            "a name pattern needs a model's tensor names");
        tuned.GetProperty("unembedding").GetRawText().Should().Be(plain.GetProperty("unembedding").GetRawText());
        tuned.GetProperty("hiddenNorm").GetRawText().Should().Be(plain.GetProperty("hiddenNorm").GetRawText());
        JsonDocument.Parse(output).RootElement.GetProperty("moduleHyperparameters").EnumerateArray().Select(e => e.GetString())
            .Should().Equal("embedding.lr=2", "hidden-weight.init=0.5", "layers.*.mlp.*.wd=3");
    }

    [Fact]
    public void The_table_shows_the_factor_in_the_formula_and_notes_a_pattern()
    {
        var (code, output, error) = Completep.Run([.. Setup, "--hp", "embedding.lr=2", "--hp", "layers.*.mlp.*.init=0.5"]);
        code.Should().Be(0, error);
        output.Should().Contain("eta * hp[embedding.lr]").And.Contain("0.01 * 2");
        output.Should().Contain("hp layers.*.mlp.*.init=0.5: a parameter-name pattern");
    }

    [Fact]
    public void A_per_branch_residual_multiplier_shows_its_value_in_the_table_and_the_json()
    {
        // CompleteP 64x2 -> 256x8: m_L^-alpha = 1/4; the attention branches x0.5.
        var (code, output, error) = Completep.Run([.. Setup, "--hp", "*.attn.res=0.5"]);
        code.Should().Be(0, error);
        output.Should().Contain("residual multiplier of '*.attn'").And.Contain("hp[*.attn.res] * m_L^-alpha").And.Contain("0.5 * 4^-1");
        output.Should().NotContain("a parameter-name pattern", "a branch factor is in the table, not a note about tensors");

        (code, output, error) = Completep.Run([.. Setup, "--hp", "*.attn.res=0.5", "--hp", "layers.*.mlp.res=3", "--format", "json"]);
        code.Should().Be(0, error);
        var root = JsonDocument.Parse(output).RootElement;
        root.GetProperty("residualMultiplier").GetDouble().Should().Be(0.25);
        root.GetProperty("branchResidualMultipliers").GetProperty("*.attn").GetDouble().Should().Be(0.125);
        root.GetProperty("branchResidualMultipliers").GetProperty("layers.*.mlp").GetDouble().Should().Be(0.75);
        Roles(output).GetRawText().Should().Be(Roles(Completep.Run([.. Setup, "--format", "json"]).Out).GetRawText(), "a branch factor changes no role's numbers");

        (code, output, error) = Completep.Run(["explain", "residual-multiplier", .. Setup[1..], "--hp", "*.attn.res=0.5"]);
        code.Should().Be(0, error);
        output.Should().Contain("branches matching '*.attn' get hp[*.attn.res] * m_L^-alpha = 0.5 * 4^-1 = 0.125 (--hp *.attn.res=0.5)")
            .And.Contain("\"Per-module base hyperparameters\"");

        (code, _, error) = Completep.Run([.. Setup, "--hp", "hidden-weight.res=2"]);
        code.Should().Be(2);
        error.Should().Contain("--hp").And.Contain("selected by a module-name pattern");
    }

    [Fact]
    public void Explain_shows_the_factor()
    {
        var (code, output, error) = Completep.Run(["explain", "embedding", "-q", "learning-rate", .. Setup[1..], "--hp", "embedding.lr=2"]);
        code.Should().Be(0, error);
        output.Should().Contain("eta * hp[embedding.lr]").And.Contain("0.02");
        output.Should().Contain("hp[embedding.lr] = 2").And.Contain("(--hp embedding.lr=2)").And.Contain("\"Per-module base hyperparameters\"");
        File.ReadAllText(Completep.RepositoryFile("docs/rules.md")).Should().Contain("\n## " + CompleteP.Cli.RuleExplainer.ModulesSection + "\n");

        // A pattern's letters are not read as the rules' symbols (m, S, eps).
        (code, output, error) = Completep.Run(["explain", "hidden-weight", "-q", "adam-epsilon", .. Setup[1..], "--hp", "hidden-weight.eps=0.5", "--format", "json"]);
        code.Should().Be(0, error);
        output.Should().Contain("hp[hidden-weight.eps]").And.NotContain("timescale");
    }

    [Fact]
    public void Hp_file_in_either_form_gives_the_same_plan_as_hp()
    {
        string array = Path.Combine(Path.GetTempPath(), $"completep-hp-{Guid.NewGuid():N}.json");
        string map = Path.Combine(Path.GetTempPath(), $"completep-hp-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(array, "[\"embedding.lr=2\", \"layers.*.mlp.*.init=0.5\"]");
            File.WriteAllText(map, "{\"embedding.lr\": 2, \"layers.*.mlp.*.init\": 0.5}");
            var (_, viaHp, _) = Completep.Run([.. Setup, "--hp", "embedding.lr=2", "--hp", "layers.*.mlp.*.init=0.5", "--format", "json"]);
            var (code1, viaArray, error1) = Completep.Run([.. Setup, "--hp-file", array, "--format", "json"]);
            var (code2, viaMap, error2) = Completep.Run([.. Setup, "--hp-file", map, "--format", "json"]);
            code1.Should().Be(0, error1);
            code2.Should().Be(0, error2);
            viaArray.Should().Be(viaHp);
            viaMap.Should().Be(viaHp);
        }
        finally
        {
            File.Delete(array);
            File.Delete(map);
        }
    }

    [Theory]
    [InlineData("--hp", "embedding.momentum=2", "unknown field 'momentum' (valid: lr, init, wd, eps, res)")]
    [InlineData("--hp", "attention.lr=2", "selector 'attention' is not a role: use one of embedding, hidden-norm, hidden-weight")]
    [InlineData("--hp", "embedding.lr=0", "factor must be a finite number greater than 0")]
    [InlineData("--hp", "embedding.lr=x", "'x' is not a number")]
    [InlineData("--hp", "embedding", "SELECTOR.FIELD=FACTOR")]
    [InlineData("--hp", "hidden-norm.init=2", "initialized to a constant")]
    [InlineData("--hp-file", "/nonexistent/hp.json", "cannot read '/nonexistent/hp.json'")]
    public void Bad_input_exits_2_with_one_line_naming_the_option_and_the_valid_forms(string option, string value, string expected)
    {
        var (code, output, error) = Completep.Run([.. Setup, option, value]);
        code.Should().Be(2);
        output.Should().BeEmpty();
        error.TrimEnd().Split('\n').Should().ContainSingle();
        error.Should().StartWith($"completep: {option}: ").And.Contain(expected);
        if (option == "--hp")
        {
            error.Should().Contain("SELECTOR.FIELD=FACTOR");
        }
    }

    [Fact]
    public void A_bad_hp_file_and_a_repeated_entry_are_refused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-hp-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{\"embedding.lr\": \"two\"}");
            var (code, _, error) = Completep.Run([.. Setup, "--hp-file", path]);
            code.Should().Be(2);
            error.Should().StartWith("completep: --hp-file: ").And.Contain("not a number").And.Contain("SELECTOR.FIELD");
            File.WriteAllText(path, "[\"embedding.lr=2\"]");
            (code, _, error) = Completep.Run([.. Setup, "--hp-file", path, "--hp", "embedding.lr=3"]);
            code.Should().Be(2);
            error.Should().StartWith("completep: --hp: 'embedding.lr' is given 2 times");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Analyze_sweep_keeps_hp_values_apart_and_ranks_them_at_a_shape()
    {
        // A per-module search at the base shape: no hp (best 1.40 at 0.02) against embedding.lr=2 (best 1.30 at 0.01).
        const string Header = "parameterization,width,depth,baseWidth,baseDepth,lr,seed,hp,valLoss";
        string path = Path.Combine(Path.GetTempPath(), $"completep-hp-sweep-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, $"{Header}\nmup,64,2,64,2,0.01,1,embedding.lr=2,1.30\nmup,64,2,64,2,0.02,1,embedding.lr=2,1.35\n" +
                                    "mup,64,2,64,2,0.01,1,,1.50\nmup,64,2,64,2,0.02,1,,1.40\n");
            var (code, output, error) = Completep.Run("analyze-sweep", path, "--format", "markdown");

            code.Should().Be(0, error);
            output.Should().Contain("| parameterization | hp | width | depth |")
                .And.Contain("| mup | none | 64 | 2 | 0.02 |")
                .And.Contain("| mup | embedding.lr=2 | 64 | 2 | 0.01 |")
                .And.Contain("mup at width 64, depth 2, best loss per hp: embedding.lr=2 1.3000 at lr 0.01; no hp 1.4000 at lr 0.02.");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
