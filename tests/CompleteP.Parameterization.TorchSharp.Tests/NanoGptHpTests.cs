using System.Text.Json;
using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>The sample's <c>--hp</c>: plan and train take it, and the sweep CSV keeps runs with different factors apart.</summary>
[Collection(ProcessWideTorchSettings.Name)]
public class NanoGptHpTests
{
    private static readonly string[] Plan =
        ["plan", "-p", "completep", "--width", "64", "--depth", "4", "--base-width", "32", "--base-depth", "1", "--head-dim", "16", "--vocab", "65", "--block-size", "16",
         "--lr", "0.01", "--init-std", "0.02", "--weight-decay", "0.1", "--seed", "0", "--format", "json"];

    private static Dictionary<string, JsonElement> Parameters(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.Clone());

    [Fact]
    public void Plan_with_hp_multiplies_the_optimizer_groups_of_the_selected_tensors_only()
    {
        var (plainCode, plainOut, plainErr) = RunNanoGpt(Plan);
        var (code, output, error) = RunNanoGpt([.. Plan, "--hp", "transformer.h.*.mlp.*.lr=0.5", "--hp", "embedding.wd=3"]);
        plainCode.Should().Be(0, plainErr);
        code.Should().Be(0, error);
        var plain = Parameters(plainOut);
        var tuned = Parameters(output);
        tuned.Keys.Should().Equal(plain.Keys);
        foreach (var (name, p) in tuned)
        {
            double lr = name.Contains(".mlp.", StringComparison.Ordinal) ? 0.5 : 1;
            double wd = name is "transformer.wte.weight" or "transformer.wpe.weight" ? 3 : 1;
            p.GetProperty("learningRate").GetDouble().Should().BeApproximately(lr * plain[name].GetProperty("learningRate").GetDouble(), 1e-15, name);
            p.GetProperty("weightDecay").GetDouble().Should().BeApproximately(wd * plain[name].GetProperty("weightDecay").GetDouble(), 1e-15, name);
            p.GetProperty("adamEpsilon").GetDouble().Should().Be(plain[name].GetProperty("adamEpsilon").GetDouble(), name);
        }

        tuned["transformer.h.0.mlp.c_fc.weight"].GetProperty("learningRate").GetDouble().Should().BeApproximately(0.5 * 0.01 / 2, 1e-15, "0.5 * eta * m_N^-1 * m_L^0");
    }

    [Fact]
    public void Train_takes_hp_and_refuses_an_entry_that_selects_nothing()
    {
        string[] train = ["train", "--width", "32", "--depth", "1", "--base-width", "32", "--base-depth", "1", "--head-dim", "16", "--block-size", "8",
            "--steps", "2", "--batch-size", "2", "--eval-batches", "1", "--log-interval", "1", "--device", "cpu"];
        var (code, output, error) = ProcessWideTorchSettings.KeepingThreadCount(() => RunNanoGpt([.. train, "--hp", "embedding.lr=2", "--hp", "*.attn.*.init=0.5"]));
        code.Should().Be(0, error);
        output.Should().Contain("per-module base hyperparameters: embedding.lr=2; *.attn.*.init=0.5");

        (code, _, error) = RunNanoGpt([.. train, "--hp", "layers.*.mlp.*.lr=2"]);
        code.Should().Be(2);
        error.Trim().Split('\n').Should().ContainSingle();
        error.Should().StartWith("nanogpt: --hp: 'layers.*.mlp.*.lr=2' selects no parameter of the model");

        (code, _, error) = RunNanoGpt([.. train, "--hp", "embedding.lr"]);
        code.Should().Be(2);
        error.Should().StartWith("nanogpt: --hp: ").And.Contain("SELECTOR.FIELD=FACTOR");
    }

    [Fact]
    public void Plan_takes_the_forward_multipliers_and_folds_them_where_the_rules_say()
    {
        // CompleteP 32x1 -> 64x4 (m_N = 2), tied head: alpha_in folded into the table, alpha_out * m_N^-1 / alpha_in into ln_f.
        var (code, output, error) = RunNanoGpt([.. Plan, "--alpha-in", "0.5", "--alpha-out", "4", "--alpha-attn", "2"]);
        code.Should().Be(0, error);
        var root = JsonDocument.Parse(output).RootElement;
        root.GetProperty("outputMultiplier").GetDouble().Should().Be(2, "alpha_out * m_N^-1 = 4 / 2");
        root.GetProperty("attentionScale").GetDouble().Should().Be(0.125, "alpha_attn / d_head = 2 / 16");
        var p = Parameters(output);
        p["transformer.wte.weight"].GetProperty("foldedMultiplier").GetDouble().Should().Be(0.5);
        p["transformer.ln_f.weight"].GetProperty("foldedMultiplier").GetDouble().Should().Be(4, "alpha_out / m_N / alpha_in = 4 / 2 / 0.5");

        (code, _, error) = RunNanoGpt([.. Plan, "--alpha-out", "0"]);
        code.Should().Be(2);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("--alpha-out").And.Contain("(0, inf)");
    }

    [Fact]
    public void A_sweep_keeps_forward_multipliers_and_branch_factors_apart_in_its_hp_column()
    {
        string csv = Path.Combine(Path.GetTempPath(), $"nanogpt-alpha-{Guid.NewGuid():N}.csv");
        string[] sweep = ["sweep", "--parameterizations", "completep", "--widths", "32", "--depths", "2", "--base-width", "32", "--base-depth", "1", "--head-dim", "16",
            "--block-size", "8", "--steps", "2", "--batch-size", "2", "--eval-batches", "1", "--lrs", "0.01", "--device", "cpu", "--resume", "--out", csv];
        try
        {
            var (code, _, error) = ProcessWideTorchSettings.KeepingThreadCount(() => RunNanoGpt([.. sweep, "--hp", "*.attn.res=0.5", "--alpha-out", "2"]));
            code.Should().Be(0, error);
            (code, _, error) = ProcessWideTorchSettings.KeepingThreadCount(() => RunNanoGpt(sweep));
            code.Should().Be(0, error);
            var lines = File.ReadAllLines(csv);
            int hp = lines[0].Split(',').ToList().IndexOf("hp");
            lines.Skip(1).Select(l => l.Split(',')[hp]).Should().Equal("*.attn.res=0.5;alpha_out=2", "");
            lines[1].Split(',')[^4].Should().NotBe(lines[2].Split(',')[^4], "the two runs train different functions (their validation losses differ)");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Plot_sweep_draws_one_curve_per_hp_value()
    {
        string csv = Path.Combine(Path.GetTempPath(), $"nanogpt-hp-plot-{Guid.NewGuid():N}.csv"), png = Path.ChangeExtension(csv, ".png");
        File.WriteAllLines(csv,
        [
            "parameterization,width,depth,lr,hp,valLoss,diverged",
            "mup,64,2,0.01,*.mlp.*.lr=0.5,2.0,false",
            "mup,64,2,0.02,*.mlp.*.lr=0.5,2.2,false",
            "mup,64,2,0.01,,2.1,false",
            "mup,64,2,0.02,,1.9,false",
        ]);
        try
        {
            var (code, output, error) = RunNanoGpt("plot-sweep", "--csv", csv, "--out", png);

            code.Should().Be(0, error);
            output.Should().Contain("mup width 64 depth 2 *.mlp.*.lr=0.5: best lr 0.01 (loss 2.000, mean of 1)")
                .And.Contain("mup width 64 depth 2 no hp: best lr 0.02 (loss 1.900, mean of 1)");
            File.Exists(png).Should().BeTrue();
        }
        finally
        {
            File.Delete(csv);
            File.Delete(png);
        }
    }
}
