using System.Globalization;
using CompleteP.Optimizers;
using FluentAssertions;
using NanoGpt;
using NanoGpt.Cli;
using TorchSharp;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>The sample's training loop as the GPU work reshaped it: batches from starts drawn up front, losses read at reports, fold-aware clipping, parallel sweep runs.</summary>
public class NanoGptTrainingTests
{
    private static GptSetup Setup(string parameterization = "completep", double lr = 3e-3, int depth = 2) =>
        new(parameterization, null, Width: 32, Depth: depth, BaseWidth: 16, BaseDepth: 1, HeadDim: 16, VocabSize: 65, BlockSize: 16,
            LearningRate: lr, InitStd: 0.02, WeightDecay: 0.1, Eps: 1e-8, Seed: 7);

    [Fact]
    public void Drawing_every_batch_up_front_gives_the_batches_of_drawing_one_at_a_time()
    {
        using var data = TinyShakespeare.Load();
        using var upFront = new Generator(11);
        using var oneByOne = new Generator(11);
        using var starts = data.DrawStarts(DataSplit.Train, batches: 3, batchSize: 4, blockSize: 8, upFront);
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = data.Window(DataSplit.Train, starts[i], 8);
            var (x1, y1) = data.GetBatch(DataSplit.Train, 4, 8, oneByOne);
            x.data<long>().ToArray().Should().Equal(x1.data<long>().ToArray(), $"batch {i}");
            y.data<long>().ToArray().Should().Equal(y1.data<long>().ToArray());
            // y is x shifted by one token.
            x[.., 1..].data<long>().ToArray().Should().Equal(y[.., ..^1].data<long>().ToArray());
        }
    }

    [Fact]
    public void The_loop_reads_losses_at_reports_and_keeps_one_point_per_step()
    {
        using var data = TinyShakespeare.Load();
        var (model, optimizer, plan) = ParameterizedGpt.Create(Setup(), CPU, ps => new FlatAdamW(ps, lr: 3e-3));
        using var _ = model;
        using var __ = optimizer;
        var reports = new List<(int Step, double Mean)>();
        var curve = Trainer.Train(model, optimizer, plan, data, new TrainSettings(7, 2, 16, LogInterval: 3, EvalBatches: 1, Seed: 3), CPU,
            (point, mean) => reports.Add((point.Step, mean)));

        curve.Select(p => p.Step).Should().Equal(0, 1, 2, 3, 4, 5, 6);
        curve.Should().OnlyContain(p => p.TrainLoss > 3 && p.TrainLoss < 5, "a character model starts near ln(65) = 4.17");
        reports.Select(r => r.Step).Should().Equal(2, 5, 6);
        reports[1].Mean.Should().BeApproximately(curve.Skip(3).Take(3).Average(p => p.TrainLoss), 1e-12);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_with_its_step()
    {
        using var data = TinyShakespeare.Load();
        var (model, optimizer, plan) = ParameterizedGpt.Create(Setup(), CPU, ps => new FlatAdamW(ps, lr: 3e-3));
        using var _ = model;
        using var __ = optimizer;
        using (no_grad())
        {
            model.Transformer.LnF.parameters().First().fill_(double.NaN);
        }

        var act = () => Trainer.Train(model, optimizer, plan, data, new TrainSettings(4, 2, 16, LogInterval: 2, EvalBatches: 1, Seed: 3), CPU);

        act.Should().Throw<TrainingDivergedException>().Where(e => e.Step == 0 && double.IsNaN(e.Loss))
            .WithMessage("*step 1*not finite*lower the learning rate*");
    }

    [Fact]
    public void The_training_step_clips_the_unfolded_models_norm_with_either_optimizer()
    {
        // The same model and batch through TrainingStep with TorchSharp's AdamW (ParameterizedGradients) and with
        // FlatAdamW (built-in clipping): the same weights after two clipped steps.
        using var data = TinyShakespeare.Load();
        var (x, y) = data.GetBatch(DataSplit.Train, 2, 16, seed: 5);
        var weights = new List<float[]>();
        foreach (bool flat in new[] { false, true })
        {
            var (model, optimizer, plan) = ParameterizedGpt.Create(Setup(depth: 4), CPU, ps => flat
                ? new FlatAdamW(ps, lr: 3e-3, beta1: 0.9, beta2: 0.99)
                : torch.optim.AdamW(ps, lr: 3e-3, beta1: 0.9, beta2: 0.99));
            using (model)
            using (optimizer)
            {
                plan.Rows.Should().Contain(r => r.Folded != null, "the residual multiplier 1/4 is folded, so plain clip_grad_norm_ would clip another model");
                var step = new TrainingStep(model, optimizer, plan, gradClip: 1e-3); // small enough to clip every step
                for (int i = 0; i < 2; i++)
                {
                    using var scope = NewDisposeScope();
                    step.Run(x, y);
                }

                weights.Add(model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray());
            }
        }

        weights[0].Zip(weights[1], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6f);
    }

    [Fact]
    public void Parallel_sweep_runs_give_the_losses_of_runs_one_at_a_time()
    {
        var csv = new[] { 1, 3 }.Select(n => Path.Combine(Path.GetTempPath(), $"nanogpt-parallel-{n}-{Guid.NewGuid():N}.csv")).ToArray();
        try
        {
            var results = new List<List<string>>();
            for (int k = 0; k < 2; k++)
            {
                var (code, output, error) = RunNanoGpt("sweep", "--parameterizations", "mup,completep", "--widths", "32", "--base-width", "32", "--depths", "1,2",
                    "--base-depth", "1", "--head-dim", "16", "--lrs", "0.003", "--steps", "3", "--batch-size", "2", "--block-size", "8", "--eval-batches", "1",
                    "--device", "cpu", "--parallel", k == 0 ? "1" : "3", "--out", csv[k]);
                code.Should().Be(0, error);
                output.Should().Contain(k == 0 ? "1 at a time" : "3 at a time").And.Contain("[4/4]");
                // parameterization, width, depth, lr, train loss, val loss: everything but the timing
                results.Add(File.ReadAllLines(csv[k]).Skip(1).Select(l => string.Join(",", l.Split(',').Where((_, i) => i is 0 or 2 or 3 or 7 or 21 or 22))).Order().ToList());
            }

            results[0].Should().HaveCount(4);
            results[1].Should().Equal(results[0]);
            results[0].Select(r => double.Parse(r.Split(',')[4], CultureInfo.InvariantCulture)).Should().OnlyContain(v => v > 3 && v < 5);
        }
        finally
        {
            foreach (var f in csv)
            {
                File.Delete(f);
            }
        }
    }

    [Fact]
    public void Bench_step_writes_one_row_per_shape_and_number_of_runs()
    {
        string csv = Path.Combine(Path.GetTempPath(), $"nanogpt-bench-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, output, error) = RunNanoGpt("bench-step", "--shapes", "32x1,32x2", "--batch-size", "2", "--block-size", "8", "--head-dim", "16",
                "--base-width", "32", "--base-depth", "1", "--warmup", "1", "--steps", "2", "--part-reps", "1", "--runs", "1,2", "--device", "cpu", "--out", csv);

            code.Should().Be(0, error);
            var lines = File.ReadAllLines(csv);
            lines[0].Should().Be("shape,width,depth,batch,block,runs,msPerStep,stepsPerSecond,forwardBackwardMs,optimizerMs,device");
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
            rows.Select(r => (r[0], r[5])).Should().Equal(("32x1", "1"), ("32x1", "2"), ("32x2", "1"), ("32x2", "2"));
            rows.Should().OnlyContain(r => double.Parse(r[6], CultureInfo.InvariantCulture) > 0 && double.Parse(r[7], CultureInfo.InvariantCulture) > 0);
            rows.Where(r => r[5] == "1").Should().OnlyContain(r => double.Parse(r[8], CultureInfo.InvariantCulture) > 0 && double.Parse(r[9], CultureInfo.InvariantCulture) > 0);
            rows.Where(r => r[5] == "2").Should().OnlyContain(r => r[8] == string.Empty, "the parts are timed for one run alone");
            output.Should().Contain("2 run(s) at once");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Theory]
    [InlineData("--shapes", "128", "--shapes")]
    [InlineData("--shapes", "100x2", "--head-dim")]
    [InlineData("--runs", "1,0", "--runs")]
    public void Bench_step_bad_input_exits_2_naming_the_option(string option, string value, string named)
    {
        var (code, _, error) = RunNanoGpt("bench-step", option, value, "--out", "/tmp/never.csv");
        code.Should().Be(NanoGptCli.BadInput);
        error.Should().Contain(named);
    }
}
