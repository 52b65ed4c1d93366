using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CompleteP.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt.Cli;

/// <summary>
/// <c>sweep</c>: trains one model per (parameterization, width, depth, learning rate) with everything else
/// fixed, and writes one CSV row per run with the final train and validation losses: the experiment
/// behind "the best base learning rate stays best as the model grows" (hyperparameter transfer).
/// <c>--parallel N</c> trains N runs at once on threads of this process: a small model leaves a GPU idle
/// between its kernel launches, and N runs launch N times as many (how
/// many fill an H200 at each shape: docs/gpu-training.md). Each run draws its initialization and its batches from generators of its
/// own, so a run's losses do not depend on N or on what runs beside it; rows are written as runs finish.
/// </summary>
internal static class SweepCommand
{
    public const string CsvHeader = "parameterization,width,depth,baseWidth,baseDepth,lr,seed,steps,trainLoss,valLoss,seconds,device";

    public static Command Create(TextWriter output)
    {
        var parameterizations = new Option<string>("--parameterizations") { Description = "comma-separated: sp, mup, completep, depth-mup, alpha=A", DefaultValueFactory = _ => "mup,completep" };
        var widths = new Option<string>("--widths") { Description = "comma-separated widths", DefaultValueFactory = _ => "128" };
        var depths = new Option<string>("--depths") { Description = "comma-separated depths", DefaultValueFactory = _ => "2,8" };
        var lrs = new Option<string>("--lrs") { Description = "comma-separated base learning rates", DefaultValueFactory = _ => "0.001,0.003,0.01,0.03" };
        var baseWidth = OptionFactory.Int("--base-width", "base width N_base", 128);
        var baseDepth = OptionFactory.Int("--base-depth", "base depth L_base", 2);
        var headDim = OptionFactory.Int("--head-dim", "attention head dimension", 32);
        var steps = OptionFactory.Int("--steps", "optimizer steps per run", 300);
        var batchSize = OptionFactory.Int("--batch-size", "sequences per batch", 16);
        var blockSize = OptionFactory.Int("--block-size", "tokens per sequence", 128);
        var evalBatches = OptionFactory.Int("--eval-batches", "batches averaged for the final losses", 20);
        var seed = OptionFactory.Int("--seed", "seed", 1337, min: 0);
        var initStd = OptionFactory.Double("--init-std", "base init std", 0.02, 0, minExclusive: true);
        var weightDecay = OptionFactory.Double("--weight-decay", "base AdamW weight decay", 0.0, 0);
        var device = OptionFactory.OneOf("--device", "where to train", "auto", "cpu", "cuda", "auto");
        var parallel = OptionFactory.Int("--parallel", "runs trained at once (threads of this process)", 1);
        var csv = new Option<string>("--out") { Description = "the CSV file to write", Required = true };

        var command = new Command("sweep", "Train one model per (parameterization, width, depth, learning rate) and write the final losses to one CSV.")
        {
            parameterizations, widths, depths, lrs, baseWidth, baseDepth, headDim, steps, batchSize, blockSize, evalBatches, seed, initStd, weightDecay, device, parallel, csv,
        };

        command.SetAction(r =>
        {
            var names = OptionFactory.Items(r.GetValue(parameterizations)!, "--parameterizations").ToList();
            var widthList = OptionFactory.PositiveIntegers(r.GetValue(widths)!, "--widths");
            var depthList = OptionFactory.PositiveIntegers(r.GetValue(depths)!, "--depths");
            var lrList = OptionFactory.Numbers(r.GetValue(lrs)!, "--lrs", s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v : (double?)null);
            var target = TrainCommand.PickDevice(r.GetValue(device)!);
            string path = r.GetValue(csv)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var settings = new TrainSettings(r.GetValue(steps), r.GetValue(batchSize), r.GetValue(blockSize), LogInterval: int.MaxValue,
                EvalBatches: r.GetValue(evalBatches), Seed: r.GetValue(seed));

            using var data = TinyShakespeare.Load();
            using var writer = new StreamWriter(path);
            writer.WriteLine(CsvHeader);
            var runs = (from name in names from width in widthList from depth in depthList from lr in lrList
                        select new GptSetup(name, null, width, depth, r.GetValue(baseWidth), r.GetValue(baseDepth), r.GetValue(headDim),
                            data.VocabSize, settings.BlockSize, lr, r.GetValue(initStd), r.GetValue(weightDecay), 1e-8, settings.Seed)).ToList();
            int inParallel = Math.Min(r.GetValue(parallel), runs.Count), done = 0;
            var sweepClock = Stopwatch.StartNew();
            var gate = new Lock();
            output.WriteLine($"sweep: {runs.Count} runs of {settings.Steps} steps on {target.type.ToString().ToLowerInvariant()}, {inParallel} at a time, writing {path}");
            Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = inParallel }, setup =>
            {
                var clock = Stopwatch.StartNew();
                var (train, val) = TrainOne(setup, settings, data, target);
                string row = string.Create(CultureInfo.InvariantCulture,
                    $"{setup.Parameterization},{setup.Width},{setup.Depth},{setup.BaseWidth},{setup.BaseDepth},{setup.LearningRate:R},{settings.Seed},{settings.Steps},{Finite(train):R},{Finite(val):R},{clock.Elapsed.TotalSeconds:F1},{target.type.ToString().ToLowerInvariant()}");
                lock (gate)
                {
                    writer.WriteLine(row);
                    writer.Flush();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  [{++done}/{runs.Count}] {setup.Parameterization} width {setup.Width} depth {setup.Depth} lr {setup.LearningRate:G3}: train {train:F4} val {val:F4} ({clock.Elapsed.TotalSeconds:F1} s)"));
                }
            });
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sweep: {runs.Count} runs in {sweepClock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    /// <summary>Trains one run and returns its final train and validation losses (NaN for a run that diverged).</summary>
    private static (double Train, double Val) TrainOne(GptSetup setup, TrainSettings settings, TinyShakespeare data, Device target)
    {
        var (model, optimizer, plan) = ParameterizedGpt.Create(setup, target, parameters =>
            new FlatAdamW(parameters, lr: setup.LearningRate, beta1: 0.9, beta2: 0.99, weight_decay: setup.WeightDecay));
        using (model)
        using (optimizer)
        {
            try
            {
                Trainer.Train(model, optimizer, plan, data, settings, target);
            }
            catch (TrainingDivergedException)
            {
                return (double.NaN, double.NaN);
            }

            double train = Trainer.Evaluate(model, data, DataSplit.Train, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 1, target);
            double val = Trainer.Evaluate(model, data, DataSplit.Val, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 2, target);
            return (train, val);
        }
    }

    /// <summary>A diverged run's loss is written as NaN's stand-in, a large finite number, so plots and parsers keep it.</summary>
    private static double Finite(double loss) => double.IsFinite(loss) ? loss : 99.0;
}
