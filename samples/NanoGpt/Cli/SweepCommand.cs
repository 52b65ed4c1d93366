using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt.Cli;

/// <summary>
/// <c>sweep</c>: trains one model per (parameterization, seed, depth, width, learning rate) with everything else
/// fixed, and writes one CSV row per run (<see cref="SweepConfiguration.CsvHeader"/>: every setting, the final train and
/// validation losses, whether it diverged): the experiment behind "the best base learning rate stays best as the model
/// grows" (hyperparameter transfer). Runs go in that order (parameterizations as listed, then seeds), so a sweep stopped
/// part-way has whole parameterizations with all their seeds. A run that diverges keeps its row, with empty losses and
/// diverged=true. <c>--resume</c> appends to an existing CSV and skips the runs already in it; <c>--shard K/N</c> runs
/// every N-th run from the K-th, so N processes (or N sessions) share one sweep.
/// <c>--parallel N</c> trains N runs at once on threads of this process: a small model leaves a GPU idle
/// between its kernel launches, and N runs launch N times as many (how
/// many fill an H200 at each shape: docs/gpu-training.md). Each run draws its initialization and its batches from generators of its
/// own, so a run's losses do not depend on N or on what runs beside it; rows are written as runs finish.
/// </summary>
internal static class SweepCommand
{
    /// <summary>The sweep CSV's header.</summary>
    public const string CsvHeader = SweepConfiguration.CsvHeader;

    public static Command Create(TextWriter output)
    {
        var parameterizations = new Option<string>("--parameterizations") { Description = "comma-separated: sp, mup, completep, depth-mup, alpha=A (run in this order)", DefaultValueFactory = _ => "mup,completep" };
        var widths = new Option<string>("--widths") { Description = "comma-separated widths", DefaultValueFactory = _ => "128" };
        var depths = new Option<string>("--depths") { Description = "comma-separated depths", DefaultValueFactory = _ => "2,8" };
        var lrs = new Option<string>("--lrs") { Description = "comma-separated base learning rates (numbers, or powers of two such as 2^-8.5)", DefaultValueFactory = _ => "0.001,0.003,0.01,0.03" };
        var baseWidth = OptionFactory.Int("--base-width", "base width N_base", 128);
        var baseDepth = OptionFactory.Int("--base-depth", "base depth L_base", 2);
        var headDim = OptionFactory.Int("--head-dim", "attention head dimension", 32);
        var steps = OptionFactory.Int("--steps", "optimizer steps per run", 300);
        var batchSize = OptionFactory.Int("--batch-size", "sequences per batch", 16);
        var blockSize = OptionFactory.Int("--block-size", "tokens per sequence", 128);
        var evalBatches = OptionFactory.Int("--eval-batches", "batches averaged for the final losses", 20);
        var seeds = new Option<string>("--seeds", "--seed") { Description = "comma-separated seeds (each seeds the initialization and the batches)", DefaultValueFactory = _ => "1337" };
        var initStd = OptionFactory.Double("--init-std", "base init std", 0.02, 0, minExclusive: true);
        var weightDecay = OptionFactory.Double("--weight-decay", "base AdamW weight decay", 0.0, 0);
        var eps = OptionFactory.Double("--eps", "base Adam epsilon", 1e-8, 0, minExclusive: true);
        var bias = OptionFactory.Bool("--bias", "whether Linears and LayerNorms have biases", true);
        var tiedHead = OptionFactory.Bool("--tied-head", "whether lm_head shares wte's weight (false: a readout Linear of its own)", true);
        var training = new TrainingOptions();
        var transfer = new TransferOptions();
        var hp = new HpOptions();
        var device = OptionFactory.OneOf("--device", "where to train", "auto", "cpu", "cuda", "auto");
        var parallel = OptionFactory.Int("--parallel", "runs trained at once (threads of this process)", 1);
        var threads = OptionFactory.Int("--threads", "CPU threads of torch (torch.set_num_threads; 0 keeps torch's default)", 0, min: 0);
        var resume = new Option<bool>("--resume") { Description = "append to an existing CSV and skip the runs already in it" };
        var shard = new Option<string?>("--shard") { Description = "K/N: run only every N-th run, from the K-th (1 <= K <= N)" };
        var csv = new Option<string>("--out") { Description = "the CSV file to write", Required = true };
        var tf32 = new Option<bool>("--tf32")
        {
            Description = "on CUDA, let float32 matrix products use TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32): several times faster on " +
                          "A100/H100/H200, with 10-bit-mantissa inputs; the CSV's device column then says cuda+tf32",
        };

        var command = new Command("sweep", "Train one model per (parameterization, seed, depth, width, learning rate) and write the final losses to one CSV.")
        {
            parameterizations, widths, depths, lrs, baseWidth, baseDepth, headDim, steps, batchSize, blockSize, evalBatches, seeds, initStd, weightDecay, eps,
            bias, tiedHead, device, parallel, threads, resume, shard, csv, tf32,
        };
        foreach (var option in training.All.Concat(transfer.All).Concat(hp.All))
        {
            command.Options.Add(option);
        }

        command.SetAction(r =>
        {
            var names = OptionFactory.Items(r.GetValue(parameterizations)!, "--parameterizations").ToList();
            var widthList = OptionFactory.PositiveIntegers(r.GetValue(widths)!, "--widths");
            var depthList = OptionFactory.PositiveIntegers(r.GetValue(depths)!, "--depths");
            var lrList = OptionFactory.LearningRates(r.GetValue(lrs)!, "--lrs");
            var seedList = OptionFactory.Seeds(r.GetValue(seeds)!, "--seeds");
            var (shardIndex, shardCount) = ParseShard(r.GetValue(shard));
            var modules = hp.Read(r);
            var multipliers = hp.ReadMultipliers(r);
            foreach (var name in names)
            {
                try
                {
                    CompleteP.Parameterization.Parse(name);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--parameterizations: {e.Message.Split('\n')[0].Split(" (Parameter", 2)[0]}", e);
                }
            }

            var badWidth = widthList.FirstOrDefault(w => w % r.GetValue(headDim) != 0);
            if (badWidth != 0)
            {
                throw new UsageException($"--head-dim must divide every width, but {r.GetValue(headDim)} does not divide {badWidth}.");
            }

            var target = TrainCommand.PickDevice(r.GetValue(device)!);
            if (r.GetValue(tf32))
            {
                if (target.type != DeviceType.CUDA)
                {
                    throw new UsageException($"--tf32 acts on CUDA matrix products only, but this sweep runs on {target.type.ToString().ToLowerInvariant()}: use --device cuda or leave --tf32 out.");
                }

                torch.backends.cuda.matmul.allow_tf32 = true;
                torch.backends.cudnn.allow_tf32 = true;
            }

            if (r.GetValue(threads) > 0)
            {
                torch.set_num_threads(r.GetValue(threads));
            }

            string path = r.GetValue(csv)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using var data = training.LoadData(r);
            if (r.GetValue(blockSize) >= data.Length(DataSplit.Val))
            {
                throw new UsageException($"--block-size must be less than {data.Length(DataSplit.Val)} (the validation split's length), but was {r.GetValue(blockSize)}.");
            }

            var baseSettings = training.Apply(r, new TrainSettings(r.GetValue(steps), r.GetValue(batchSize), r.GetValue(blockSize), LogInterval: int.MaxValue,
                EvalBatches: r.GetValue(evalBatches), Seed: 0));
            var all = Order(names, seedList, depthList, widthList, lrList, (name, seed, depth, width, lr) =>
            {
                // With --base-tokens-per-step and --base-tokens, each run's LR, eps, decay and betas transfer from the base run's batch and length.
                var (setup, settings) = transfer.Apply(r, training.Apply(r, new GptSetup(name, null, width, depth, r.GetValue(baseWidth), r.GetValue(baseDepth),
                    r.GetValue(headDim), data.VocabSize, baseSettings.BlockSize, lr, r.GetValue(initStd), r.GetValue(weightDecay), r.GetValue(eps), seed,
                    Bias: r.GetValue(bias), TiedHead: r.GetValue(tiedHead), Modules: modules, Multipliers: multipliers)), baseSettings with { Seed = seed });
                return new SweepConfiguration(setup, settings);
            });
            // An --hp entry that selects no tensor is refused before any run (the names depend on the depth only).
            foreach (var config in all.DistinctBy(c => c.Setup.Depth))
            {
                HpOptions.Check(config.Setup);
            }

            // The transfer columns: with a base run, or when resuming a CSV that has them (this sweep's rows then say "no rule": empty base columns).
            // The hp column: with --hp or an --alpha-* other than 1, or when resuming a CSV that has it (this sweep's rows then say "no factors": an empty hp field).
            var existing = r.GetValue(resume) && File.Exists(path) ? CompleteLines(path) : [];
            var schema = existing is [var first, ..] ? SweepConfiguration.SchemaOf(first) : null;
            bool transferring = (all.Count > 0 && all[0].Setup.BaseTraining is not null) || schema is (true, _);
            bool hpColumn = modules.Count > 0 || multipliers is not null || schema is (_, true);
            all = all.Select(c => c with { TransferColumns = transferring, HpColumn = hpColumn }).ToList();
            string header = SweepConfiguration.CsvHeaderFor(transferring, hpColumn);
            var mine = Shard(all, shardIndex, shardCount);
            var done = DoneKeys(path, existing, header, transferring, hpColumn);
            var runs = mine.Where(c => !done.Contains(c.Key)).ToList();

            using var writer = OpenCsv(path, append: r.GetValue(resume) && File.Exists(path), header);
            int inParallel = Math.Max(1, Math.Min(r.GetValue(parallel), runs.Count)), finished = 0;
            string deviceName = target.type.ToString().ToLowerInvariant() + (r.GetValue(tf32) ? "+tf32" : string.Empty);
            var sweepClock = Stopwatch.StartNew();
            var gate = new Lock();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sweep: {all.Count} runs{(shardCount > 1 ? $", shard {shardIndex}/{shardCount}: {mine.Count}" : string.Empty)}, {mine.Count - runs.Count} already in the CSV, {runs.Count} to run, of {baseSettings.Steps} steps on {deviceName}{(target.type == DeviceType.CPU ? $" ({torch.get_num_threads()} threads)" : string.Empty)}, {inParallel} at a time, writing {path}"));
            Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = inParallel }, run =>
            {
                var clock = Stopwatch.StartNew();
                var losses = TrainOne(run.Setup, run.Settings, data, target);
                double seconds = clock.Elapsed.TotalSeconds;
                string row = run.Row(losses, seconds, deviceName);
                lock (gate)
                {
                    writer.WriteLine(row);
                    writer.Flush();
                    finished++;
                    double left = sweepClock.Elapsed.TotalSeconds / finished * (runs.Count - finished);
                    var s = run.Setup;
                    string result = losses is { } l ? string.Create(CultureInfo.InvariantCulture, $"train {l.Train:F4} val {l.Val:F4}") : "diverged";
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  [{finished}/{runs.Count}] {s.Parameterization} seed {s.Seed} width {s.Width} depth {s.Depth} lr {s.LearningRate:G3}: {result} ({seconds:F1} s; about {Duration(left)} left)"));
                }
            });
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sweep: {runs.Count} runs in {sweepClock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Every run, parameterizations outermost (in the order given), then seeds, depths, widths and learning rates: a sweep
    /// stopped part-way has whole parameterizations, each with all its seeds.
    /// </summary>
    internal static List<SweepConfiguration> Order(IReadOnlyList<string> names, IReadOnlyList<long> seeds, IReadOnlyList<int> depths, IReadOnlyList<int> widths,
        IReadOnlyList<double> lrs, Func<string, long, int, int, double, SweepConfiguration> create) =>
        (from name in names from seed in seeds from depth in depths from width in widths from lr in lrs select create(name, seed, depth, width, lr)).ToList();

    /// <summary>Shard <paramref name="index"/> of <paramref name="count"/> (1-based): the runs at positions index-1, index-1+count, ...</summary>
    internal static List<T> Shard<T>(IReadOnlyList<T> runs, int index, int count) => runs.Where((_, i) => i % count == index - 1).ToList();

    /// <summary>(K, N) of a <c>--shard K/N</c> value; (1, 1) when absent.</summary>
    internal static (int Index, int Count) ParseShard(string? text)
    {
        if (text is null)
        {
            return (1, 1);
        }

        var parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && k >= 1 && k <= n
            ? (k, n)
            : throw new UsageException($"--shard must be K/N with 1 <= K <= N, but was '{text}'.");
    }

    /// <summary>
    /// The keys of the complete rows of the CSV being resumed (<paramref name="lines"/>: its complete lines, none when not resuming);
    /// a CSV of another schema is a usage error that says which options it was written with or without.
    /// </summary>
    private static HashSet<string> DoneKeys(string path, IReadOnlyList<string> lines, string header, bool transfer, bool hp)
    {
        if (lines.Count == 0)
        {
            return [];
        }

        if (lines[0] != header)
        {
            string hint = SweepConfiguration.SchemaOf(lines[0]) is var (written, writtenHp)
                ? $" (it was written {string.Join(" and ", new[]
                {
                    writtenHp != hp ? $"{(hp ? "without" : "with")} --hp" : null,
                    written != transfer ? $"{(transfer ? "without" : "with")} --base-tokens-per-step and --base-tokens" : null,
                }.OfType<string>())})."
                : ".";
            throw new UsageException($"--resume: '{path}' is not a sweep CSV of this schema: its header is '{lines[0]}', expected '{header}'{hint}");
        }

        int columns = header.Split(',').Length;
        return lines.Skip(1).Where(l => l.Split(',').Length == columns).Select(l => SweepConfiguration.KeyOf(l, transfer, hp)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The writer of the CSV: a new file with the header, or the existing one to append to. A last line cut off by a
    /// killed process (no newline at the end) is dropped first, so the appended rows start on a line of their own.
    /// </summary>
    private static StreamWriter OpenCsv(string path, bool append, string header)
    {
        if (!append || CompleteLines(path).Count == 0)
        {
            var fresh = new StreamWriter(path);
            fresh.WriteLine(header);
            fresh.Flush();
            return fresh;
        }

        string text = File.ReadAllText(path);
        if (!text.EndsWith('\n'))
        {
            File.WriteAllText(path, text[..(text.LastIndexOf('\n') + 1)]);
        }

        return new StreamWriter(path, append: true);
    }

    /// <summary>The lines of a file that end with a newline (a cut-off last line is left out), without empty ones.</summary>
    private static List<string> CompleteLines(string path)
    {
        string text = File.ReadAllText(path);
        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
    }

    private static string Duration(double seconds) =>
        seconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s")
        : seconds < 7200 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F0} min")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h");

    /// <summary>Trains one run and returns its final train and validation losses; null for a run that diverged (a NaN or infinite loss).</summary>
    private static (double Train, double Val)? TrainOne(GptSetup setup, TrainSettings settings, TinyShakespeare data, Device target)
    {
        var (model, optimizer, plan) = ParameterizedGpt.Create(setup, target);
        using (model)
        using (optimizer)
        {
            try
            {
                Trainer.Train(model, optimizer, plan, data, settings, target);
            }
            catch (TrainingDivergedException)
            {
                return null;
            }

            double train = Trainer.Evaluate(model, data, DataSplit.Train, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 1, target);
            double val = Trainer.Evaluate(model, data, DataSplit.Val, settings.EvalBatches, settings.BatchSize, settings.BlockSize, settings.Seed + 2, target);
            return double.IsFinite(train) && double.IsFinite(val) ? (train, val) : null;
        }
    }
}
