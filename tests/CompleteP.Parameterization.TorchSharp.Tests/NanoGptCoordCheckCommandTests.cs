using System.Globalization;
using CompleteP.CoordinateChecks;
using FluentAssertions;
using NanoGpt.Cli;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>The nanoGPT sample's <c>coord-check</c> and <c>plot-sweep</c> commands (moved there from the <c>completep</c> tool, which needs no TorchSharp).</summary>
public class NanoGptCoordCheckCommandTests
{
    [Fact]
    public void A_small_coord_check_writes_csv_json_plots_and_a_summary()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"completep-cc-{Guid.NewGuid():N}");
        try
        {
            var (code, output, error) = RunNanoGpt("coord-check", "--parameterizations", "sp,completep", "--widths", "32,64", "--depths", "2,4",
                "--base-width", "32", "--base-depth", "2", "--head-dim", "16", "--steps", "2", "--batch-size", "2", "--block-size", "16",
                "--out", folder);

            code.Should().Be(0, error);
            error.Should().Contain("[1/27] sp width 32 depth 2 seed 0", "progress is reported per run (2 parameterizations and the depth control muP x 3 shapes x 3 seeds)");
            output.Should().Contain("| completep | depth |").And.Contain("| completep | laziness |").And.Contain("| mup | depth |");
            foreach (var file in new[] { "coordcheck.csv", "coordcheck.json", "laziness.csv", "widthsweep.png", "depthsweep.png", "laziness.png", "summary.md" })
            {
                File.Exists(Path.Combine(folder, file)).Should().BeTrue(file);
            }

            var rows = CoordinateCheckResult.ParseCsv(File.ReadAllText(Path.Combine(folder, "coordcheck.csv")));
            rows.Select(r => (r.Parameterization, r.Width, r.Depth)).Distinct().Should().HaveCount(9);
            rows.Should().Contain(r => r.Module == "transformer.h.3" && r.Depth == 4 && r.Kind == ModuleKind.Block);
            rows.Select(r => r.Step).Distinct().Should().BeEquivalentTo([1, 2]);
            File.ReadAllBytes(Path.Combine(folder, "widthsweep.png")).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
            File.ReadAllText(Path.Combine(folder, "summary.md")).Should().Contain("Command: `dotnet run -c Release --project samples/NanoGpt -- coord-check --parameterizations sp,completep");
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void Coord_check_takes_hp_and_the_factor_changes_the_selected_updates_only()
    {
        // The embedding's LR x 4: step 1 (before any update) is the same; from step 2 the embedding's output moves
        // differently. An entry that selects nothing is refused before any run.
        string[] small = ["coord-check", "--parameterizations", "mup", "--widths", "32,64", "--depths", "2", "--base-width", "32", "--base-depth", "2",
            "--head-dim", "16", "--steps", "2", "--seeds", "1", "--batch-size", "2", "--block-size", "16", "--laziness", "false", "--controls", "false"];
        string plain = Path.Combine(Path.GetTempPath(), $"completep-cc-{Guid.NewGuid():N}"), factor = plain + "-hp";
        try
        {
            var (code, _, error) = RunNanoGpt([.. small, "--out", plain]);
            code.Should().Be(0, error);
            (code, _, error) = RunNanoGpt([.. small, "--hp", "embedding.lr=4", "--out", factor]);
            code.Should().Be(0, error);

            var a = CoordinateCheckResult.ParseCsv(File.ReadAllText(Path.Combine(plain, "coordcheck.csv"))).ToDictionary(m => (m.Module, m.Step, m.Width, m.Depth), m => m.Rms);
            var b = CoordinateCheckResult.ParseCsv(File.ReadAllText(Path.Combine(factor, "coordcheck.csv"))).ToDictionary(m => (m.Module, m.Step, m.Width, m.Depth), m => m.Rms);
            b.Keys.Should().BeEquivalentTo(a.Keys);
            a.Where(x => x.Key.Step == 1).Should().OnlyContain(x => b[x.Key] == x.Value, "the factor acts on the LR, not the init");
            var moved = a.Where(x => x.Key.Step == 2 && b[x.Key] != x.Value).Select(x => x.Key.Module).ToList();
            moved.Should().NotBeEmpty("the embedding's larger updates change what the modules see at step 2");

            (code, _, error) = RunNanoGpt([.. small, "--hp", "*.mlp.nothing.lr=2", "--out", plain + "-never"]);
            code.Should().Be(NanoGptCli.BadInput);
            error.Should().StartWith("nanogpt: --hp: '*.mlp.nothing.lr=2' selects no parameter");
            Directory.Exists(plain + "-never").Should().BeFalse();
        }
        finally
        {
            foreach (var folder in new[] { plain, factor })
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }

    [Theory]
    [InlineData("--widths", "64,x", "--widths")]
    [InlineData("--widths", "0,64", "--widths")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--parameterizations", "sp,umup", "umup")]
    [InlineData("--head-dim", "48", "--head-dim")]
    [InlineData("--metric", "l2", "l2")]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--beta2", "1.5", "--beta2")]
    public void Bad_input_exits_2_with_one_line(string option, string value, string named)
    {
        var (code, output, error) = RunNanoGpt("coord-check", option, value, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        code.Should().Be(NanoGptCli.BadInput);
        output.Should().BeEmpty();
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(named).And.Contain(option.TrimStart('-').Split('-')[0]);
    }

    [Fact]
    public void Plot_sweep_draws_a_png_and_prints_the_best_learning_rate_per_shape()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"nanogpt-plot-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string csv = Path.Combine(folder, "sweep.csv"), png = Path.Combine(folder, "sweep.png");
            File.WriteAllLines(csv, [
                "parameterization,width,depth,baseWidth,baseDepth,lr,seed,steps,trainLoss,valLoss,seconds,device",
                .. from depth in new[] { 2, 8 } from lr in new[] { 0.001, 0.002, 0.004 }
                   select string.Create(CultureInfo.InvariantCulture, $"completep,64,{depth},64,2,{lr},1,10,{2 + lr},{2 + Math.Abs(lr - 0.002) * depth},1.0,cpu"),
            ]);

            var (code, output, error) = RunNanoGpt("plot-sweep", "--csv", csv, "--out", png);

            code.Should().Be(0, error);
            output.Should().Contain("completep width 64 depth 2: best lr 0.002 (loss 2.000, mean of 1)").And.Contain("completep width 64 depth 8: best lr 0.002").And.Contain($"wrote {png}");
            File.ReadAllBytes(png).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Plot_sweep_names_a_missing_file()
    {
        var (code, _, error) = RunNanoGpt("plot-sweep", "--csv", "/no/such/sweep.csv", "--out", "/tmp/never.png");

        code.Should().Be(NanoGptCli.BadInput);
        error.Should().Contain("--csv: no file '/no/such/sweep.csv'");
    }
}
