using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using NanoGpt.Cli;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>The nanoGPT sample's commands, as a user runs them.</summary>
public class NanoGptSampleCliTests
{
    public static TheoryData<string> Cases() => new(GoldenNames());

    [Fact]
    public void Plan_transfers_from_the_base_runs_batch_and_length_like_train()
    {
        // Base run 16 x 64 tokens for 300 steps; this run 64 x 64 for 75 (kappa 4, equal tokens): LR x 2, eps / 2,
        // betas 1 - 4(1 - beta), coupled decay x 1/2 x 300/75 = x 2.
        string[] model = ["plan", "--format", "json", "--width", "64", "--depth", "4", "--base-width", "64", "--base-depth", "2", "--head-dim", "16",
            "--lr", "0.004", "--eps", "1e-8", "--weight-decay", "0.1", "--beta1", "0.9", "--beta2", "0.95", "--block-size", "64"];
        var (code, plain, error) = RunNanoGpt(model);
        code.Should().Be(0, error);
        (code, var transferred, error) = RunNanoGpt([.. model, "--batch-size", "64", "--steps", "75", "--base-tokens-per-step", "1024", "--base-tokens", "307200"]);
        code.Should().Be(0, error);

        static Dictionary<string, JsonElement> Parameters(string json) =>
            JsonDocument.Parse(json).RootElement.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.Clone());
        var before = Parameters(plain);
        var after = Parameters(transferred);
        after.Keys.Should().BeEquivalentTo(before.Keys);
        foreach (var (name, p) in after)
        {
            var b = before[name];
            p.GetProperty("learningRate").GetDouble().Should().BeApproximately(2 * b.GetProperty("learningRate").GetDouble(), 1e-15, name);
            p.GetProperty("adamEpsilon").GetDouble().Should().BeApproximately(b.GetProperty("adamEpsilon").GetDouble() / 2, 1e-24, name);
            p.GetProperty("weightDecay").GetDouble().Should().BeApproximately(2 * b.GetProperty("weightDecay").GetDouble(), 1e-15, name);
            b.GetProperty("beta1").GetDouble().Should().Be(0.9, "without a base run the base betas are used");
            b.GetProperty("beta2").GetDouble().Should().Be(0.95);
            p.GetProperty("beta1").GetDouble().Should().BeApproximately(0.6, 1e-12, name);
            p.GetProperty("beta2").GetDouble().Should().BeApproximately(0.8, 1e-12, name);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Plan_json_reproduces_the_reference_per_parameter_values(string caseName)
    {
        var c = Golden(caseName);
        string F(string name) => c.GetProperty("base").GetProperty(name).GetDouble().ToString("R", CultureInfo.InvariantCulture);
        string kind = c.GetProperty("parameterization").GetString()!;
        var args = new List<string> { "plan", "--parameterization", kind == "mup" ? "mup" : "completep" };
        if (kind != "mup")
        {
            args.AddRange(["--alpha", c.GetProperty("alpha").GetDouble().ToString("R", CultureInfo.InvariantCulture)]);
        }

        args.AddRange([
            "--width", c.GetProperty("width").ToString(), "--depth", c.GetProperty("depth").ToString(),
            "--base-width", c.GetProperty("baseWidth").ToString(), "--base-depth", c.GetProperty("baseDepth").ToString(),
            "--head-dim", c.GetProperty("headDim").ToString(), "--vocab", "65", "--block-size", "64",
            "--lr", F("learningRate"), "--init-std", F("initStd"), "--weight-decay", F("weightDecay"), "--eps", F("adamEpsilon"),
            "--seed", "0", "--format", "json",
        ]);

        var (code, output, error) = RunNanoGpt([.. args]);

        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        foreach (var key in new[] { "residualMultiplier", "outputMultiplier", "attentionScale" })
        {
            root.GetProperty(key).GetDouble().Should().BeApproximately(c.GetProperty(key).GetDouble(), 1e-12, key);
        }

        var ours = root.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var golden = c.GetProperty("parameters").EnumerateArray().ToList();
        ours.Keys.Should().BeEquivalentTo(golden.Select(g => g.GetProperty("name").GetString()));
        foreach (var g in golden)
        {
            string name = g.GetProperty("name").GetString()!;
            var p = ours[name];
            p.GetProperty("role").GetString().Should().Be(g.GetProperty("role").GetString());

            // The residual multiplier lives in the output projections' values (folded), exactly where the reference applies it.
            double fold = p.GetProperty("foldedMultiplier").GetDouble();
            fold.Should().Be(ExpectedFold(name, root.GetProperty("residualMultiplier").GetDouble(), root.GetProperty("outputMultiplier").GetDouble()), name);
            var folded = FoldedGolden(g, fold);
            p.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).Should().Equal(g.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            foreach (var (key, expected) in new[] { ("learningRate", folded.Lr), ("weightDecay", folded.Wd), ("adamEpsilon", folded.Eps) })
            {
                p.GetProperty(key).GetDouble().Should().BeApproximately(expected, 1e-9 * Math.Max(Math.Abs(expected), 1e-300), $"{name} {key}");
            }

            double std = folded.Std;
            p.GetProperty("measuredInitStd").GetDouble().Should().BeApproximately(std, Math.Max(1e-12, 0.05 * std), $"{g.GetProperty("name")} init std");
        }
    }

    [Fact]
    public void Sweep_writes_one_csv_row_per_run()
    {
        string csv = Path.Combine(Path.GetTempPath(), $"nanogpt-sweep-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, output, error) = RunNanoGpt("sweep", "--parameterizations", "mup,completep", "--widths", "32", "--base-width", "32",
                "--depths", "1,2", "--base-depth", "1", "--head-dim", "16", "--lrs", "0.001,0.01", "--steps", "3", "--batch-size", "2",
                "--block-size", "8", "--eval-batches", "1", "--device", "cpu", "--out", csv);

            code.Should().Be(0, error);
            output.Should().Contain("[8/8]");
            var lines = File.ReadAllLines(csv);
            lines[0].Should().Be("parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead,trainLoss,valLoss,diverged,seconds,device");
            lines.Skip(1).Select(l => l.Split(',')).Select(c => (c[0], c[3], c[7])).Should().Equal(
                from p in new[] { "mup", "completep" } from d in new[] { "1", "2" } from lr in new[] { "0.001", "0.01" } select (p, d, lr));
            lines.Skip(1).Select(l => double.Parse(l.Split(',')[22], CultureInfo.InvariantCulture)).Should().OnlyContain(v => v > 0 && v < 10);
            // Today's settings are the defaults, written on every row: cosine with 5% warm-up, betas 0.9/0.99, eps 1e-8, no decay, clip 1, biases, tied head.
            lines[1].Split(',')[1..21].Should().Equal("", "32", "1", "32", "1", "16", "0.001", "1337", "3", "2", "8", "cosine", "1", "0.9", "0.99", "1E-08", "0", "1", "true", "true");
            lines[5].Split(',')[1].Should().Be("1", "completep's depth exponent");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Theory]
    [InlineData("sweep", "--lrs", "0.01,x", "--lrs")]
    [InlineData("sweep", "--depths", "2,0", "--depths")]
    [InlineData("plan", "--width", "0", "--width")]
    public void Bad_input_exits_2_with_one_line_naming_the_option(string command, string option, string value, string named)
    {
        var (code, _, error) = command == "sweep" ? RunNanoGpt(command, option, value, "--out", "/tmp/never.csv") : RunNanoGpt(command, option, value);
        code.Should().Be(NanoGptCli.BadInput);
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(named).And.Contain(value.Split(',').Last());
    }

    [Fact]
    public void Tf32_on_the_cpu_is_refused_naming_the_option_and_writes_nothing()
    {
        string csv = Path.Combine(Path.GetTempPath(), $"nanogpt-tf32-{Guid.NewGuid():N}.csv");
        var (code, _, error) = RunNanoGpt("sweep", "--tf32", "--device", "cpu", "--widths", "32", "--depths", "1", "--steps", "2", "--out", csv);
        code.Should().Be(NanoGptCli.BadInput);
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain("--tf32").And.Contain("--device cuda");
        File.Exists(csv).Should().BeFalse();
    }
}
