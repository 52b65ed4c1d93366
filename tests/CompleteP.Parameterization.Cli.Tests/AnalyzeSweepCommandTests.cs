using System.Text.Json;
using CompleteP.Cli;
using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Cli.Completep;

namespace CompleteP.Tests.Cli;

public class AnalyzeSweepCommandTests
{
    private const string Header = "parameterization,width,depth,baseWidth,baseDepth,lr,seed,steps,trainLoss,valLoss,seconds,device";

    private static string WriteCsv(params string[] lines)
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-sweep-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static List<JsonElement> Optima(string path, params string[] extra)
    {
        var (code, output, error) = Run(["analyze-sweep", path, "--format", "json", .. extra]);
        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.GetProperty("optima").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static JsonElement At(List<JsonElement> optima, string parameterization, int width, int depth) => optima.Single(o =>
        o.GetProperty("parameterization").GetString() == parameterization && o.GetProperty("width").GetInt32() == width && o.GetProperty("depth").GetInt32() == depth);

    [Fact]
    public void The_committed_depth_sweep_gives_the_optima_docs_report()
    {
        // docs/hyperparameter-transfer.md: muP 0.008 (1.850) -> 0.001 (1.976) -> 0.001 (2.054); CompleteP 0.004 -> 0.008 -> 0.008;
        // muP's depth-2 optimum costs 2.450 at depth 8, CompleteP's 1.892. One seed: every verdict is inconclusive.
        var optima = Optima(RepositoryFile("docs/lr-sweep/lr-sweep.csv"));

        optima.Should().HaveCount(6);
        var mup8 = At(optima, "mup", 256, 8);
        mup8.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.001);
        mup8.GetProperty("bestLearningRate").GetDouble().Should().Be(0.001, "an optimum on the grid's edge has no parabola");
        mup8.GetProperty("loss").GetDouble().Should().BeApproximately(1.976, 5e-4);
        mup8.GetProperty("lossAtBaseOptimum").GetDouble().Should().BeApproximately(2.450, 5e-4);
        mup8.GetProperty("regret").GetDouble().Should().BeApproximately(2.450 - 1.976, 1e-3);
        mup8.GetProperty("atGridEdge").GetBoolean().Should().BeTrue("0.001 is the lowest learning rate of the grid");
        mup8.GetProperty("verdict").GetString().Should().Be("inconclusive");
        mup8.GetProperty("reason").GetString().Should().Be("optimum at the lowest lr tried");
        At(optima, "mup", 256, 2).GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.008);
        At(optima, "mup", 256, 2).GetProperty("verdict").ValueKind.Should().Be(JsonValueKind.Null, "the base shape is not judged");
        var completep32 = At(optima, "completep", 256, 32);
        completep32.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.008);
        completep32.GetProperty("curve").GetArrayLength().Should().Be(6);
        completep32.GetProperty("reason").GetString().Should().Be("fewer than 3 seeds (1)");
        At(optima, "completep", 256, 8).GetProperty("lossAtBaseOptimum").GetDouble().Should().BeApproximately(1.892, 5e-4);
    }

    [Fact]
    public void Markdown_is_a_markdown_table()
    {
        var (code, output, _) = Run("analyze-sweep", RepositoryFile("docs/lr-sweep/lr-sweep.csv"), "--format", "markdown", "--loss", "trainLoss");

        code.Should().Be(0);
        output.Should().Contain("| parameterization | width | depth | best lr (fit) | log2 | best grid lr | loss ± se | seeds | drift (oct) | regret ± se | verdict | why |")
            .And.Contain("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
            .And.Contain("(trainLoss, seed means)");
    }

    [Fact]
    public void Seeds_are_averaged_before_the_best_learning_rate_is_chosen()
    {
        // Seed 1 alone would pick 0.01 (1.0 < 1.1); the mean over both seeds picks 0.02 (1.15 < 1.5).
        string path = WriteCsv(Header,
            "mup,64,2,64,2,0.01,1,10,0,1.0,1,cpu", "mup,64,2,64,2,0.01,2,10,0,2.0,1,cpu",
            "mup,64,2,64,2,0.02,1,10,0,1.1,1,cpu", "mup,64,2,64,2,0.02,2,10,0,1.2,1,cpu",
            "mup,64,2,64,2,0.04,1,10,0,99,1,cpu", "mup,64,2,64,2,0.04,2,10,0,NaN,1,cpu");
        try
        {
            var only = Optima(path).Should().ContainSingle().Subject;

            only.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.02);
            only.GetProperty("loss").GetDouble().Should().BeApproximately(1.15, 1e-12);
            only.GetProperty("standardError").GetDouble().Should().BeApproximately(0.05, 1e-12, "sd 0.0707 over sqrt(2)");
            only.GetProperty("seeds").GetInt32().Should().Be(2);
            only.GetProperty("atGridEdge").GetBoolean().Should().BeFalse();
            only.GetProperty("curve")[2].GetProperty("loss").ValueKind.Should().Be(JsonValueKind.Null, "a run that diverged has no finite loss");
            only.GetProperty("curve")[2].GetProperty("diverged").GetBoolean().Should().BeTrue("the old schema wrote a diverged run as 99");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Columns_are_found_by_name_and_a_sweep_without_its_base_shape_has_no_drift()
    {
        string path = WriteCsv("lr,valLoss,depth,width,parameterization,baseDepth,baseWidth",
            "0.01,2.0,8,128,completep,2,128", "0.02,1.9,8,128,completep,2,128");
        try
        {
            var only = Optima(path).Should().ContainSingle().Subject;
            only.GetProperty("depth").GetInt32().Should().Be(8);
            only.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.02);
            only.GetProperty("drift").ValueKind.Should().Be(JsonValueKind.Null);
            only.GetProperty("reason").GetString().Should().Be("no run at the base shape 128x2");

            var (_, table, _) = Run("analyze-sweep", path);
            table.Should().Contain("no run at the").And.Contain("completep (base width 128, depth 2): no run at the base shape, so no drift.");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_width_sweep_at_another_depth_than_the_base_compares_with_the_base_width_at_its_own_depth()
    {
        // Base shape 128x2, runs at depth 4 only (issue 17's width sweep): 128x4 is the reference. Width 256's best lr is
        // one octave lower (0.01 against 0.02): drift -1, and 128x4's best lr costs it 0.5 nats.
        var rows = new List<string>();
        foreach (var (width, best) in new[] { (128, 0.02), (256, 0.01) })
        {
            foreach (double lr in new[] { 0.005, 0.01, 0.02, 0.04 })
            {
                for (int seed = 1; seed <= 3; seed++)
                {
                    double loss = 2 + Math.Abs(Math.Log2(lr / best)) * 0.5 + seed * 0.001;
                    rows.Add(FormattableString.Invariant($"completep,{width},4,128,2,{lr},{seed},10,0,{loss},1,cpu"));
                }
            }
        }

        string path = WriteCsv([Header, .. rows]);
        try
        {
            var optima = Optima(path).ToList();
            optima.Should().HaveCount(2);
            optima[0].GetProperty("reason").GetString().Should().Be("reference: against 128x4, as no run is at the base shape 128x2");
            optima[0].GetProperty("drift").GetDouble().Should().Be(0);
            optima[1].GetProperty("drift").GetDouble().Should().BeApproximately(-1, 1e-12);
            optima[1].GetProperty("regret").GetDouble().Should().BeApproximately(0.5, 1e-12);
            optima[1].GetProperty("verdict").GetString().Should().Be("drifts");
            optima[1].GetProperty("reason").GetString().Should().EndWith("(against 128x4, as no run is at the base shape 128x2)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(2, "base shape")]
    [InlineData(1, "base run")] // the base model shape (depth 1) is not in the sweep: the depth-2 model at the base run's batch and length is the reference
    public void A_batch_sweep_with_and_without_the_rule_is_two_arms_that_share_the_base_run(int baseDepth, string baseReason)
    {
        // The base run is 4 sequences of 32 tokens for 8 steps (128 tokens per step, 1024 tokens). With the rule (base
        // columns filled) batch 8's optimum stays at 0.002; without it (base columns empty) it moves to 0.004: +1 octave.
        const string header = "parameterization,width,depth,baseWidth,baseDepth,lr,seed,steps,batch,block,baseTokensPerStep,baseTokens,valLoss";
        string Row(int batch, int steps, string baseColumns, double lr, double loss) =>
            FormattableString.Invariant($"completep,32,2,32,{baseDepth},{lr},1,{steps},{batch},32,{baseColumns},{loss}");
        var lines = new List<string> { header };
        foreach (var (baseColumns, losses8) in new[] { ("128,1024", new[] { 2.6, 2.5, 2.6 }), (",", new[] { 2.7, 2.6, 2.5 }) })
        {
            lines.AddRange(new[] { 0.001, 0.002, 0.004 }.Select((lr, i) => Row(4, 8, baseColumns, lr, new[] { 2.55, 2.45, 2.55 }[i])));
            lines.AddRange(new[] { 0.001, 0.002, 0.004 }.Select((lr, i) => Row(8, 4, baseColumns, lr, losses8[i])));
        }

        string path = WriteCsv([.. lines]);
        try
        {
            var optima = Optima(path);

            optima.Should().HaveCount(4);
            optima.Select(o => (o.GetProperty("batch").GetInt32(), o.GetProperty("rule").GetBoolean())).Should().Equal((4, false), (8, false), (4, true), (8, true));
            optima.Should().OnlyContain(o => o.GetProperty("baseBatch").GetInt32() == 4 && o.GetProperty("baseSteps").GetInt32() == 8,
                "rows without base columns compare with the base run that the rule's rows declare");
            var withRule = optima.Single(o => o.GetProperty("batch").GetInt32() == 8 && o.GetProperty("rule").GetBoolean());
            withRule.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.002);
            withRule.GetProperty("steps").GetInt32().Should().Be(4);
            var without = optima.Single(o => o.GetProperty("batch").GetInt32() == 8 && !o.GetProperty("rule").GetBoolean());
            without.GetProperty("bestGridLearningRate").GetDouble().Should().Be(0.004);
            without.GetProperty("regret").GetDouble().Should().BeApproximately(0.1, 1e-12, "2.6 at the base run's 0.002 minus 2.5");
            without.GetProperty("drift").GetDouble().Should().BeApproximately(1.0, 0.3, "the optimum moved up one grid step (the parabola refines it)");
            optima.Where(o => o.GetProperty("batch").GetInt32() == 4).Should().OnlyContain(o => o.GetProperty("reason").GetString() == baseReason);

            var (_, table, _) = Run("analyze-sweep", path, "--format", "markdown");
            table.Should().Contain("| parameterization | width | depth | batch | steps | rule |")
                .And.Contain("| completep | 32 | 2 | 8 | 4 | from 4x8 |")
                .And.Contain("| completep | 32 | 2 | 8 | 4 | none |")
                .And.Contain($"completep (base width 32, depth {baseDepth}, batch 4, 8 steps, with the batch and length rules): inconclusive at 1 of 1 shapes")
                .And.Contain($"completep (base width 32, depth {baseDepth}, batch 4, 8 steps, no batch or length rule)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Rows_without_a_base_run_over_several_batches_and_no_declared_base_are_refused()
    {
        string path = WriteCsv("parameterization,width,depth,baseWidth,baseDepth,lr,steps,batch,valLoss",
            "mup,64,2,64,2,0.01,100,8,2.0", "mup,64,2,64,2,0.01,50,16,2.0");
        try
        {
            var (code, _, error) = Run("analyze-sweep", path);

            code.Should().Be(CompletepCli.BadInput);
            error.Should().Contain("the mup runs without a base run").And.Contain("2 training shapes (batch 8, 100 steps; batch 16, 50 steps)")
                .And.Contain("declares no base run");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("parameterization,width,depth,baseWidth,lr,valLoss", "mup,64,2,2,0.01,1", "no column 'baseDepth'")]
    [InlineData(Header, "mup,64,2,64,2,fast,1,10,0,1.0,1,cpu", "line 2, column lr: 'fast' is not a number")]
    [InlineData(Header, "mup,64,2,64,2,-0.01,1,10,0,1.0,1,cpu", "line 2, column lr: '-0.01' is not a learning rate")]
    [InlineData(Header, "mup,0,2,64,2,0.01,1,10,0,1.0,1,cpu", "column width: '0' is not an integer of at least 1")]
    [InlineData(Header, "mup,64,2,64,2,0.01,1,10,0,1.0,1", "line 2 has 11 fields, but the header has 12")]
    [InlineData(Header, "", "has no runs")]
    public void Bad_csv_exits_2_with_one_line_naming_the_line_and_column(string header, string row, string message)
    {
        string path = WriteCsv(header, row);
        try
        {
            var (code, output, error) = Run("analyze-sweep", path);

            code.Should().Be(CompletepCli.BadInput);
            output.Should().BeEmpty();
            error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(message).And.Contain(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_exits_2()
    {
        var (code, _, error) = Run("analyze-sweep", "/no/such/sweep.csv");

        code.Should().Be(CompletepCli.BadInput);
        error.Should().Contain("no file '/no/such/sweep.csv'");
    }
}
