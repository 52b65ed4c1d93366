using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using CompleteP.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt.Cli;

/// <summary>
/// <c>bench-step</c>: the time of the sample's training step (<see cref="TrainingStep"/>: batch, forward, backward,
/// fold-aware clipping, FlatAdamW) at given shapes, for the side-by-side benchmark against PyTorch
/// (<c>benchmarks/gpu-step/</c>). Per shape: the mean time per step over <c>--steps</c> steps after
/// <c>--warmup</c> steps (one device synchronization at each end of the window), then forward+backward and the
/// optimizer step timed apart; with <c>--runs 1,2,4,...</c> also that many runs training at once on threads, for
/// how many runs fill the GPU. Writes one CSV row per (shape, runs).
/// </summary>
internal static class BenchStepCommand
{
    public const string CsvHeader = "shape,width,depth,batch,block,runs,msPerStep,stepsPerSecond,forwardBackwardMs,optimizerMs,device";

    public static Command Create(TextWriter output)
    {
        var shapes = new Option<string>("--shapes") { Description = "comma-separated WIDTHxDEPTH shapes", DefaultValueFactory = _ => "128x32,256x8,1024x12" };
        var batchSize = OptionFactory.Int("--batch-size", "sequences per batch", 16);
        var blockSize = OptionFactory.Int("--block-size", "tokens per sequence", 256);
        var headDim = OptionFactory.Int("--head-dim", "attention head dimension (must divide every width)", 64);
        var baseWidth = OptionFactory.Int("--base-width", "base width of the CompleteP plan", 128);
        var baseDepth = OptionFactory.Int("--base-depth", "base depth of the CompleteP plan", 2);
        var warmup = OptionFactory.Int("--warmup", "untimed steps first", 100, min: 0);
        var steps = OptionFactory.Int("--steps", "timed steps", 200);
        var parts = OptionFactory.Int("--part-reps", "repetitions of forward+backward and of the optimizer step, each timed apart (0: skip)", 50, min: 0);
        var runs = new Option<string>("--runs") { Description = "comma-separated numbers of runs trained at once (threads), e.g. 1,2,4,8", DefaultValueFactory = _ => "1" };
        var device = OptionFactory.OneOf("--device", "where to run", "auto", "cpu", "cuda", "auto");
        var csv = new Option<string>("--out") { Description = "the CSV file to write", Required = true };
        var command = new Command("bench-step", "Time the sample's training step (forward, backward, clipping, FlatAdamW) per shape, alone and with several runs at once.")
        {
            shapes, batchSize, blockSize, headDim, baseWidth, baseDepth, warmup, steps, parts, runs, device, csv,
        };

        command.SetAction(r =>
        {
            var shapeList = OptionFactory.Items(r.GetValue(shapes)!, "--shapes").Select(ParseShape).ToList();
            var runList = OptionFactory.PositiveIntegers(r.GetValue(runs)!, "--runs");
            int head = r.GetValue(headDim);
            foreach (var (width, _) in shapeList.Where(s => s.Width % head != 0))
            {
                throw new UsageException($"--head-dim {head} must divide every width in --shapes, but {width} is not a multiple of it.");
            }

            var target = TrainCommand.PickDevice(r.GetValue(device)!);
            string path = r.GetValue(csv)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using var data = TinyShakespeare.Load();
            var rows = new StringBuilder(CsvHeader + "\n");
            output.WriteLine($"bench-step on {target.type.ToString().ToLowerInvariant()}: {shapeList.Count} shape(s), batch {r.GetValue(batchSize)} x {r.GetValue(blockSize)}, " +
                             $"{r.GetValue(warmup)} warm-up + {r.GetValue(steps)} timed steps, runs at once {string.Join(",", runList)}");
            foreach (var (width, depth) in shapeList)
            {
                var setup = new GptSetup("completep", null, width, depth, r.GetValue(baseWidth), r.GetValue(baseDepth), head, data.VocabSize,
                    r.GetValue(blockSize), 3e-3, 0.02, 0.1, 1e-8, 1337);
                foreach (int n in runList)
                {
                    var result = Measure(setup, data, target, r.GetValue(batchSize), r.GetValue(warmup), r.GetValue(steps), n == 1 ? r.GetValue(parts) : 0, n);
                    string line = string.Create(CultureInfo.InvariantCulture,
                        $"{width}x{depth},{width},{depth},{r.GetValue(batchSize)},{r.GetValue(blockSize)},{n},{result.MsPerStep:F3},{result.StepsPerSecond:F2},{Optional(result.ForwardBackwardMs)},{Optional(result.OptimizerMs)},{target.type.ToString().ToLowerInvariant()}");
                    rows.Append(line).Append('\n');
                    File.WriteAllText(path, rows.ToString()); // after every row: a run cut short keeps what it measured
                    string partsText = result.ForwardBackwardMs is { } fb
                        ? string.Create(CultureInfo.InvariantCulture, $" (forward+backward {fb:F2} ms, optimizer {result.OptimizerMs:F2} ms)")
                        : string.Empty;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {width}x{depth}, {n} run(s) at once: {result.MsPerStep:F2} ms per step per run, {result.StepsPerSecond:F1} steps/s in all{partsText}"));
                }
            }

            output.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }

    private static (int Width, int Depth) ParseShape(string text)
    {
        var parts = text.Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) && w > 0
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int d) && d > 0)
        {
            return (w, d);
        }

        throw new UsageException($"--shapes has '{text}', which is not WIDTHxDEPTH with positive integers (e.g. 128x32).");
    }

    private static string Optional(double? value) => value is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) : string.Empty;

    /// <summary>Trains <paramref name="runs"/> models at once (one per thread) and times the window after the warm-up.</summary>
    private static Result Measure(GptSetup setup, TinyShakespeare data, Device device, int batchSize, int warmup, int steps, int partReps, int runs)
    {
        var workers = Enumerable.Range(0, runs).Select(i => new Worker(setup with { Seed = setup.Seed + i }, data, device, batchSize, warmup + steps)).ToList();
        try
        {
            using var ready = new Barrier(runs + 1);
            using var done = new CountdownEvent(runs);
            var errors = new List<Exception>();
            var threads = workers.Select(w => new Thread(() =>
            {
                bool waited = false;
                try
                {
                    w.Steps(0, warmup);
                    Synchronize(device);
                    waited = true;
                    ready.SignalAndWait();
                    w.Steps(warmup, steps);
                }
                catch (Exception e)
                {
                    lock (errors)
                    {
                        errors.Add(e);
                    }

                    if (!waited)
                    {
                        ready.RemoveParticipant(); // let the others start the window without this run
                    }
                }
                finally
                {
                    done.Signal();
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            ready.SignalAndWait();
            var clock = Stopwatch.StartNew();
            done.Wait();
            Synchronize(device);
            double seconds = clock.Elapsed.TotalSeconds;
            threads.ForEach(t => t.Join());
            if (errors.Count > 0)
            {
                throw new AggregateException("a benchmark run failed", errors);
            }

            double? forwardBackward = null, optimizer = null;
            if (partReps > 0)
            {
                (forwardBackward, optimizer) = workers[0].Parts(partReps);
            }

            return new Result(1000 * seconds / steps, runs * steps / seconds, forwardBackward, optimizer);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize();
        }
    }

    private sealed record Result(double MsPerStep, double StepsPerSecond, double? ForwardBackwardMs, double? OptimizerMs);

    /// <summary>One run: a parameterized model, its FlatAdamW with fold-aware clipping, and every batch's window starts on the device.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Gpt _model;
        private readonly FlatAdamW _optimizer;
        private readonly TrainingStep _step;
        private readonly TinyShakespeare _data;
        private readonly Tensor _starts;
        private readonly int _blockSize;

        public Worker(GptSetup setup, TinyShakespeare data, Device device, int batchSize, int totalSteps)
        {
            var (model, optimizer, plan) = ParameterizedGpt.Create(setup, device, parameters =>
                new FlatAdamW(parameters, lr: setup.LearningRate, beta1: 0.9, beta2: 0.95, eps: setup.Eps, weight_decay: setup.WeightDecay));
            _model = model;
            _optimizer = (FlatAdamW)optimizer;
            _step = new TrainingStep(model, optimizer, plan, gradClip: 1.0);
            _data = data;
            _blockSize = setup.BlockSize;
            using var generator = new Generator((ulong)setup.Seed);
            _starts = data.DrawStarts(DataSplit.Train, totalSteps, batchSize, setup.BlockSize, generator, device).DetachFromDisposeScope(); // (steps, B)
            _model.train();
        }

        /// <summary>Steps <paramref name="first"/> .. first + count - 1, without waiting for the device.</summary>
        public void Steps(int first, int count)
        {
            for (int i = first; i < first + count; i++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y) = _data.Window(DataSplit.Train, _starts[i], _blockSize);
                _step.Run(x, y);
            }
        }

        /// <summary>Forward+backward and the optimizer step (clipping included), each repeated and timed alone, in ms.</summary>
        public (double ForwardBackward, double Optimizer) Parts(int reps)
        {
            var device = _starts.device;
            double forwardBackward = 0, optimizer = 0;
            for (int k = 0; k < reps; k++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y) = _data.Window(DataSplit.Train, _starts[k % _starts.shape[0]], _blockSize);
                Synchronize(device);
                var clock = Stopwatch.StartNew();
                _optimizer.zero_grad();
                _model.Loss(x, y).backward();
                Synchronize(device);
                forwardBackward += clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                _optimizer.step();
                Synchronize(device);
                optimizer += clock.Elapsed.TotalMilliseconds;
            }

            return (forwardBackward / reps, optimizer / reps);
        }

        public void Dispose()
        {
            _starts.Dispose();
            _optimizer.Dispose();
            _model.Dispose();
        }
    }
}
