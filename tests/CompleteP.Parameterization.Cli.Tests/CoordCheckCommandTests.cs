using CompleteP.Cli;
using CompleteP.CoordinateChecks;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Cli;

public class CoordCheckCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CompletepCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_small_coord_check_writes_csv_json_plots_and_a_summary()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"completep-cc-{Guid.NewGuid():N}");
        try
        {
            var (code, output, error) = Run("coord-check", "--parameterizations", "sp,completep", "--widths", "32,64", "--depths", "2,4",
                "--base-width", "32", "--base-depth", "2", "--head-dim", "16", "--steps", "2", "--batch-size", "2", "--block-size", "16",
                "--out", folder);

            code.Should().Be(0, error);
            error.Should().Contain("[1/6] sp width 32 depth 2 seed 0", "progress is reported per run");
            output.Should().Contain("| completep | depth |").And.Contain("| completep | laziness |");
            foreach (var file in new[] { "coordcheck.csv", "coordcheck.json", "laziness.csv", "widthsweep.png", "depthsweep.png", "laziness.png", "summary.md" })
            {
                File.Exists(Path.Combine(folder, file)).Should().BeTrue(file);
            }

            var rows = CoordinateCheckResult.ParseCsv(File.ReadAllText(Path.Combine(folder, "coordcheck.csv")));
            rows.Select(r => (r.Parameterization, r.Width, r.Depth)).Distinct().Should().HaveCount(6);
            rows.Should().Contain(r => r.Module == "transformer.h.3" && r.Depth == 4 && r.Kind == ModuleKind.Block);
            rows.Select(r => r.Step).Distinct().Should().BeEquivalentTo([1, 2]);
            File.ReadAllBytes(Path.Combine(folder, "widthsweep.png")).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
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
    public void Bad_input_exits_2_with_one_line(string option, string value, string named)
    {
        var (code, output, error) = Run("coord-check", option, value, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        code.Should().Be(CompletepCli.BadInput);
        output.Should().BeEmpty();
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(named).And.Contain(option.TrimStart('-').Split('-')[0]);
    }
}
