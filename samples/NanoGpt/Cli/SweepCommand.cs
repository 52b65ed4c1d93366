using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt.Cli;

/// <summary>
/// <c>sweep</c>: trains one model per (parameterization, width, depth, learning rate) with everything else
/// fixed, and writes one CSV row per run with the final train and validation losses: the experiment
/// behind "the best base learning rate stays best as the model grows" (hyperparameter transfer).
/// Runs one after the other; run several processes side by side to fill a GPU.
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
        var csv = new Option<string>("--out") { Description = "the CSV file to write", Required = true };

        var command = new Command("sweep", "Train one model per (parameterization, width, depth, learning rate) and write the final losses to one CSV.")
        {
            parameterizations, widths, depths, lrs, baseWidth, baseDepth, headDim, steps, batchSize, blockSize, evalBatches, seed, initStd, weightDecay, device, csv,
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
            int runs = names.Count * widthList.Count * depthList.Count * lrList.Count, done = 0;
            output.WriteLine($"sweep: {runs} runs of {settings.Steps} steps on {target.type.ToString().ToLowerInvariant()}, writing {path}");
            foreach (var name in names)
            {
                foreach (int width in widthList)
                {
                    foreach (int depth in depthList)
                    {
                        foreach (double lr in lrList)
                        {
                            var clock = Stopwatch.StartNew();
                            var setup = new GptSetup(name, null, width, depth, r.GetValue(baseWidth), r.GetValue(baseDepth), r.GetValue(headDim),
                                data.VocabSize, settings.BlockSize, lr, r.GetValue(initStd), r.GetValue(weightDecay), 1e-8, settings.Seed);
                            var (model, optimizer, _) = ParameterizedGpt.Create(setup, target, parameters =>
                                optim.AdamW(parameters, lr: lr, beta1: 0.9, beta2: 0.99, weight_decay: setup.WeightDecay));
                            using (model)
                            using (optimizer)
                            {
                                var curve = Trainer.Train(model, optimizer, data, settings, target);
                                double train = Trainer.Evaluate(model, data, DataSplit.Train, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 1, target);
                                double val = Trainer.Evaluate(model, data, DataSplit.Val, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 2, target);
                                string row = string.Create(CultureInfo.InvariantCulture,
                                    $"{name},{width},{depth},{setup.BaseWidth},{setup.BaseDepth},{lr:R},{settings.Seed},{settings.Steps},{Finite(train):R},{Finite(val):R},{clock.Elapsed.TotalSeconds:F1},{target.type.ToString().ToLowerInvariant()}");
                                writer.WriteLine(row);
                                writer.Flush();
                                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                    $"  [{++done}/{runs}] {name} width {width} depth {depth} lr {lr:G3}: train {train:F4} val {val:F4} ({clock.Elapsed.TotalSeconds:F1} s)"));
                            }
                        }
                    }
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>A diverged run's loss is written as NaN's stand-in, a large finite number, so plots and parsers keep it.</summary>
    private static double Finite(double loss) => double.IsFinite(loss) ? loss : 99.0;
}
