using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using NanoGpt;
using TorchSharp.Modules;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>The sample's sweep as a long experiment needs it: resume, shards, diverged rows, and every training setting an option that reaches the run.</summary>
[Collection(ProcessWideTorchSettings.Name)]
public class NanoGptSweepTests
{
    private const int Lr = 7, Seed = 8, TrainLoss = 21, ValLoss = 22, Diverged = 23;

    /// <summary>A tiny sweep (width 32, depth 1, 3 steps of 2 x 8 tokens); <paramref name="extra"/> adds options or overrides these.</summary>
    private static (int Code, string Out, string Err) Sweep(string csv, params string[] extra)
    {
        var options = new Dictionary<string, string?>
        {
            ["--parameterizations"] = "mup", ["--widths"] = "32", ["--base-width"] = "32", ["--depths"] = "1", ["--base-depth"] = "1", ["--head-dim"] = "16",
            ["--steps"] = "3", ["--batch-size"] = "2", ["--block-size"] = "8", ["--eval-batches"] = "1", ["--device"] = "cpu", ["--threads"] = "1", ["--out"] = csv,
        };
        for (int i = 0; i < extra.Length; i++)
        {
            bool flag = i + 1 == extra.Length || extra[i + 1].StartsWith("--", StringComparison.Ordinal);
            options[extra[i]] = flag ? null : extra[++i];
        }

        return ProcessWideTorchSettings.KeepingThreadCount(() => RunNanoGpt(["sweep", .. options.SelectMany(o => o.Value is null ? new[] { o.Key } : [o.Key, o.Value])]));
    }

    private static string TempCsv() => Path.Combine(Path.GetTempPath(), $"nanogpt-sweep-{Guid.NewGuid():N}.csv");

    [Fact]
    public void A_transfer_sweep_writes_the_base_run_columns_and_resumes_its_schema_with_or_without_the_rule()
    {
        string csv = TempCsv();
        try
        {
            // 2 x 8 = 16 tokens per step; the base run had 4 per step (kappa 4) for 12 tokens (3 steps, as here).
            var (code, _, error) = Sweep(csv, "--lrs", "0.001,0.01", "--base-tokens-per-step", "4", "--base-tokens", "12");
            code.Should().Be(0, error);
            var lines = File.ReadAllLines(csv);
            lines[0].Should().Be("parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead,baseTokensPerStep,baseTokens,trainLoss,valLoss,diverged,seconds,device");
            lines.Should().HaveCount(3);
            lines[1].Split(',')[21..23].Should().Equal("4", "12");
            lines[1].Split(',')[Lr].Should().Be("0.001", "the CSV keeps the base learning rate; the plan scales it");

            (code, var output, error) = Sweep(csv, "--lrs", "0.001,0.01,0.1", "--base-tokens-per-step", "4", "--base-tokens", "12", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("2 already in the CSV, 1 to run");
            File.ReadAllLines(csv).Should().HaveCount(4);

            // Without the base options, resuming this CSV adds rule-free rows: the same settings, empty base columns, the base LR unscaled.
            (code, output, error) = Sweep(csv, "--lrs", "0.001", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("0 already in the CSV, 1 to run");
            var rows = File.ReadAllLines(csv);
            rows.Should().HaveCount(5);
            rows[4].Split(',')[21..23].Should().Equal(string.Empty, string.Empty);
            rows[4].Split(',')[..21].Should().Equal(rows[1].Split(',')[..21], "the same run but for the rule");
            rows[4].Split(',')[ValLoss + 2].Should().NotBe(rows[1].Split(',')[ValLoss + 2], "with kappa 4 the rule doubled the LR and changed eps, betas and decay");
            (code, output, error) = Sweep(csv, "--lrs", "0.001", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("1 already in the CSV, 0 to run");

            string plain = TempCsv();
            (code, _, error) = Sweep(plain, "--lrs", "0.001");
            code.Should().Be(0, error);
            (code, _, error) = Sweep(plain, "--lrs", "0.001", "--base-tokens-per-step", "4", "--base-tokens", "12", "--resume");
            File.Delete(plain);
            code.Should().NotBe(0);
            error.Should().Contain("it was written without --base-tokens-per-step and --base-tokens");

            (code, _, error) = Sweep(TempCsv(), "--base-tokens-per-step", "1", "--base-tokens", "3");
            code.Should().NotBe(0);
            error.Should().Contain("at most 9", "16 tokens per step are 16 times the base's; beta1 0.9 allows fewer than 10 times");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void An_hp_sweep_adds_an_hp_column_and_keeps_runs_with_different_factors_apart()
    {
        string csv = TempCsv();
        string plain = TempCsv();
        try
        {
            var (code, _, error) = Sweep(csv, "--lrs", "0.01", "--hp", "*.mlp.*.lr=0.5");
            code.Should().Be(0, error);
            var lines = File.ReadAllLines(csv);
            lines[0].Should().Be("parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead,hp,trainLoss,valLoss,diverged,seconds,device");
            lines[1].Split(',')[21].Should().Be("*.mlp.*.lr=0.5");

            (code, var output, error) = Sweep(csv, "--lrs", "0.01", "--hp", "*.mlp.*.lr=0.5", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("1 already in the CSV, 0 to run");

            // Another factor, and none: other runs of the same settings, kept apart by the hp field.
            (code, output, error) = Sweep(csv, "--lrs", "0.01", "--hp", "*.mlp.*.lr=2", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("0 already in the CSV, 1 to run");
            (code, output, error) = Sweep(csv, "--lrs", "0.01", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("0 already in the CSV, 1 to run");
            var rows = File.ReadAllLines(csv);
            rows.Should().HaveCount(4);
            rows.Skip(1).Select(r => r.Split(',')[21]).Should().Equal("*.mlp.*.lr=0.5", "*.mlp.*.lr=2", string.Empty);
            rows.Skip(1).Select(r => string.Join(',', r.Split(',')[..21])).Distinct().Should().ContainSingle("the same settings but for the factors");
            rows.Skip(1).Select(r => r.Split(',')[ValLoss + 1]).Distinct().Should().HaveCount(3, "the factors changed the runs");

            // A CSV without the column resumes as before, and refuses --hp.
            (code, _, error) = Sweep(plain, "--lrs", "0.01");
            code.Should().Be(0, error);
            File.ReadAllLines(plain)[0].Should().NotContain("hp");
            (code, output, error) = Sweep(plain, "--lrs", "0.01", "--resume");
            code.Should().Be(0, error);
            output.Should().Contain("1 already in the CSV, 0 to run");
            (code, _, error) = Sweep(plain, "--lrs", "0.01", "--hp", "*.mlp.*.lr=0.5", "--resume");
            code.Should().Be(2);
            error.Should().Contain("it was written without --hp");

            (code, _, error) = Sweep(TempCsv(), "--lrs", "0.01", "--hp", "layers.*.lr=2");
            code.Should().Be(2);
            error.Should().Contain("--hp: 'layers.*.lr=2' selects no parameter of the model");
        }
        finally
        {
            File.Delete(csv);
            File.Delete(plain);
        }
    }

    [Fact]
    public void Resume_skips_the_runs_already_in_the_csv_and_appends_the_others()
    {
        string csv = TempCsv();
        try
        {
            Sweep(csv, "--lrs", "0.001,0.01").Code.Should().Be(0);
            var first = File.ReadAllLines(csv);
            first.Should().HaveCount(3);
            File.AppendAllText(csv, "mup,,32,1"); // a row cut off by a killed process: no newline

            var (code, output, error) = Sweep(csv, "--lrs", "0.001,0.01,2^-5", "--resume");

            code.Should().Be(0, error);
            output.Should().Contain("2 already in the CSV, 1 to run").And.Contain("[1/1] mup seed 1337 width 32 depth 1 lr 0.0312: train ")
                .And.MatchRegex(@"\(\d+\.\d s; about \d+ s left\)", "each progress line says the runs done out of the total and the time left");
            var lines = File.ReadAllLines(csv);
            lines.Should().HaveCount(4);
            lines[..3].Should().Equal(first, "done rows are kept as they were, and the cut-off row is dropped");
            lines[3].Split(',')[Lr].Should().Be("0.03125", "2^-5");

            var again = Sweep(csv, "--lrs", "0.001,0.01,2^-5", "--resume");
            again.Out.Should().Contain("3 already in the CSV, 0 to run");
            File.ReadAllLines(csv).Should().HaveCount(4);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Resume_refuses_a_csv_of_another_schema()
    {
        string csv = TempCsv();
        try
        {
            File.WriteAllText(csv, "parameterization,width,depth,baseWidth,baseDepth,lr,seed,steps,trainLoss,valLoss,seconds,device\n");
            var (code, _, error) = Sweep(csv, "--lrs", "0.001", "--resume");
            code.Should().Be(2);
            error.Should().Contain("--resume").And.Contain("not a sweep CSV of this schema");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Shards_partition_the_runs_and_runs_go_by_parameterization_then_seed()
    {
        var csv = new[] { TempCsv(), TempCsv(), TempCsv() };
        try
        {
            var rows = new List<string[]>[3];
            for (int k = 1; k <= 3; k++)
            {
                var (code, output, error) = Sweep(csv[k - 1], "--parameterizations", "completep,mup", "--seeds", "1,2", "--lrs", "0.001,0.003", "--steps", "1",
                    "--shard", $"{k}/3");
                code.Should().Be(0, error);
                output.Should().Contain($"sweep: 8 runs, shard {k}/3: {(k < 3 ? 3 : 2)}");
                rows[k - 1] = File.ReadAllLines(csv[k - 1]).Skip(1).Select(l => l.Split(',')).ToList();
            }

            var keys = rows.Select(r => r.Select(c => (c[0], c[Seed], c[Lr])).ToList()).ToList();
            keys.SelectMany(k => k).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(
                from p in new[] { "completep", "mup" } from s in new[] { "1", "2" } from lr in new[] { "0.001", "0.003" } select (p, s, lr));
            // Run i (in order: parameterization, seed, ..., lr) goes to shard i mod 3.
            keys[0].Should().Equal(("completep", "1", "0.001"), ("completep", "2", "0.003"), ("mup", "2", "0.001"));
            keys[2].Should().Equal(("completep", "2", "0.001"), ("mup", "1", "0.003"));
        }
        finally
        {
            foreach (var f in csv)
            {
                File.Delete(f);
            }
        }
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("1-2")]
    public void A_bad_shard_exits_2_naming_the_option(string shard)
    {
        var (code, _, error) = Sweep("/tmp/never.csv", "--shard", shard);
        code.Should().Be(2);
        error.Should().Contain("--shard").And.Contain(shard);
    }

    [Fact]
    public void A_diverged_run_keeps_its_row_with_empty_losses()
    {
        string csv = TempCsv();
        try
        {
            var (code, output, error) = Sweep(csv, "--lrs", "0.001,1e30", "--grad-clip", "0", "--steps", "4");

            code.Should().Be(0, error);
            output.Should().Contain("diverged");
            var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToList();
            rows.Should().HaveCount(2);
            rows[0][Diverged].Should().Be("false");
            double.Parse(rows[0][ValLoss], CultureInfo.InvariantCulture).Should().BeInRange(3, 5);
            rows[1][Lr].Should().Be("1E+30");
            rows[1][Diverged].Should().Be("true");
            rows[1][TrainLoss].Should().BeEmpty();
            rows[1][ValLoss].Should().BeEmpty();

            // plot-sweep leaves the diverged point out and draws the rest.
            string png = Path.ChangeExtension(csv, ".png");
            var plot = RunNanoGpt("plot-sweep", "--csv", csv, "--out", png);
            plot.Code.Should().Be(0, plot.Err);
            plot.Out.Should().Contain("mup width 32 depth 1: best lr 0.001 (loss").And.Contain("mean of 1");
            File.Exists(png).Should().BeTrue();
            File.Delete(png);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void The_training_options_are_written_on_every_row()
    {
        string csv = TempCsv();
        try
        {
            var (code, _, error) = Sweep(csv, "--parameterizations", "alpha=0.5", "--lrs", "0.001", "--schedule", "constant", "--beta1", "0.8", "--beta2", "0.95",
                "--eps", "1e-12", "--weight-decay", "0.1", "--grad-clip", "0", "--bias", "false", "--tied-head", "false", "--seeds", "5");

            code.Should().Be(0, error);
            var row = File.ReadAllLines(csv)[1].Split(',');
            row[..21].Should().Equal("alpha=0.5", "0.5", "32", "1", "32", "1", "16", "0.001", "5", "3", "2", "8", "constant", "0", "0.8", "0.95", "1E-12", "0.1", "0", "false", "false");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Bias_false_gives_a_model_without_biases_and_tied_head_false_a_readout_of_its_own()
    {
        var (code, output, error) = RunNanoGpt("plan", "--width", "32", "--depth", "2", "--head-dim", "16", "--bias", "false", "--tied-head", "false", "--format", "json");

        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        var parameters = doc.RootElement.GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("role").GetString());
        parameters.Keys.Should().NotContain(n => n.EndsWith(".bias", StringComparison.Ordinal));
        parameters.Should().Contain("lm_head.weight", "unembedding").And.Contain("transformer.wte.weight", "embedding");

        var tied = RunNanoGpt("plan", "--width", "32", "--depth", "2", "--head-dim", "16", "--format", "json");
        using var tiedDoc = JsonDocument.Parse(tied.Out);
        var names = tiedDoc.RootElement.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        names.Should().NotContain("lm_head.weight").And.Contain("transformer.h.0.attn.c_attn.bias");
    }

    [Fact]
    public void The_setup_builds_the_model_and_optimizer_it_names()
    {
        var setup = new GptSetup("mup", null, Width: 32, Depth: 1, BaseWidth: 32, BaseDepth: 1, HeadDim: 16, VocabSize: 65, BlockSize: 8,
            LearningRate: 1e-3, InitStd: 0.02, WeightDecay: 0.1, Eps: 1e-12, Seed: 1, Bias: false, TiedHead: false, Beta1: 0.8, Beta2: 0.95);
        var (model, optimizer, _) = ParameterizedGpt.Create(setup, CPU);
        using (model)
        using (optimizer)
        {
            model.WeightsAreTied.Should().BeFalse();
            model.named_parameters().Select(p => p.name).Should().NotContain(n => n.EndsWith(".bias", StringComparison.Ordinal)).And.Contain("lm_head.weight");
            foreach (var options in optimizer.ParamGroups.OfType<ParamGroup>().Select(g => (AdamW.Options)g.Options))
            {
                options.beta1.Should().Be(0.8);
                options.beta2.Should().Be(0.95);
            }
        }
    }

    [Theory]
    [InlineData(LrSchedule.Constant, null, new[] { 1.0, 1.0, 1.0, 1.0 })]
    [InlineData(LrSchedule.Constant, 2, new[] { 0.5, 1.0, 1.0, 1.0 })]
    [InlineData(LrSchedule.Cosine, 0, new[] { 1.0, 0.86819805153394637, 0.55, 0.23180194846605363 })]
    public void The_schedule_gives_the_lr_factor_of_each_step(LrSchedule schedule, int? warmup, double[] factors)
    {
        var settings = new TrainSettings(4, 2, 8, 100, 1, 1, Schedule: schedule, WarmupSteps: warmup, MinLrFraction: 0.1);
        Enumerable.Range(0, 4).Select(settings.LrFactor).Should().Equal(factors, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void A_constant_schedule_keeps_every_groups_lr()
    {
        var setup = new GptSetup("completep", null, Width: 32, Depth: 2, BaseWidth: 16, BaseDepth: 1, HeadDim: 16, VocabSize: 65, BlockSize: 8,
            LearningRate: 1e-3, InitStd: 0.02, WeightDecay: 0.1, Eps: 1e-8, Seed: 1);
        using var data = TinyShakespeare.Load();
        foreach (var schedule in new[] { LrSchedule.Constant, LrSchedule.Cosine })
        {
            var (model, optimizer, plan) = ParameterizedGpt.Create(setup, CPU);
            using (model)
            using (optimizer)
            {
                var before = optimizer.ParamGroups.Select(g => g.LearningRate).ToList();
                Trainer.Train(model, optimizer, plan, data, new TrainSettings(3, 2, 8, 100, 1, 1, Schedule: schedule), CPU);
                var after = optimizer.ParamGroups.Select(g => g.LearningRate).ToList();
                if (schedule == LrSchedule.Constant)
                {
                    after.Should().Equal(before);
                }
                else
                {
                    after.Zip(before, (a, b) => a / b).Should().OnlyContain(r => r < 0.2, "cosine ends near the final fraction 0.1");
                }
            }
        }
    }

    [Fact]
    public void Data_trains_on_a_text_file_of_its_own()
    {
        string text = Path.Combine(Path.GetTempPath(), $"nanogpt-data-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(text, string.Concat(Enumerable.Repeat("abcab cba ", 200)));
            var (code, output, error) = RunNanoGpt("train", "--data", text, "--width", "32", "--depth", "1", "--head-dim", "16", "--block-size", "8",
                "--steps", "2", "--batch-size", "2", "--eval-batches", "1", "--log-interval", "1", "--device", "cpu");
            code.Should().Be(0, error);
            output.Should().Contain("vocab 4,");
        }
        finally
        {
            File.Delete(text);
        }
    }
}
