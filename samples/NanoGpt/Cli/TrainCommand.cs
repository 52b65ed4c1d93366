using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using CompleteP;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt.Cli;

/// <summary>
/// <c>train</c>: the demo. A character-level nanoGPT on tiny Shakespeare, parameterized through the
/// library, trained with AdamW; prints progress, the final train and val losses and a sample.
/// </summary>
internal static class TrainCommand
{
    private static readonly GptSetup Defaults = new("completep", null, Width: 128, Depth: 4, BaseWidth: 64, BaseDepth: 2, HeadDim: 32,
        VocabSize: 65, BlockSize: 64, LearningRate: 1e-2, InitStd: 0.02, WeightDecay: 0.1, Eps: 1e-8, Seed: 1337);

    public static Command Create(TextWriter output)
    {
        var gpt = new GptOptions(Defaults);
        var training = new TrainingOptions();
        var transfer = new TransferOptions();
        var steps = OptionFactory.Int("--steps", "optimizer steps", 1000);
        var batchSize = OptionFactory.Int("--batch-size", "sequences per batch", 16);
        var logInterval = OptionFactory.Int("--log-interval", "print progress every this many steps", 100);
        var evalBatches = OptionFactory.Int("--eval-batches", "batches averaged for the final train and val losses", 40);
        var device = OptionFactory.OneOf("--device", "where to train", "auto", "cpu", "cuda", "auto");
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "folder to write loss.csv (the loss curve) into" };
        var command = new Command("train", "Train a character-level nanoGPT on tiny Shakespeare with the chosen parameterization.");
        foreach (var option in gpt.All.Concat(training.All).Concat(transfer.All).Concat([steps, batchSize, logInterval, evalBatches, device, outDir]))
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            using var data = training.LoadData(result);
            var setup = training.Apply(result, gpt.Read(result, data.VocabSize));
            if (setup.BlockSize >= data.Length(DataSplit.Val))
            {
                throw new UsageException($"--block-size must be less than {data.Length(DataSplit.Val)}, but was {setup.BlockSize}.");
            }

            var settings = training.Apply(result, new TrainSettings(result.GetValue(steps), result.GetValue(batchSize), setup.BlockSize,
                result.GetValue(logInterval), result.GetValue(evalBatches), setup.Seed));
            (setup, settings) = transfer.Apply(result, setup, settings);
            Run(setup, settings, PickDevice(result.GetValue(device)!), result.GetValue(outDir), data, output);
            return 0;
        });
        return command;
    }

    private static void Run(GptSetup setup, TrainSettings settings, Device device, DirectoryInfo? outDir, TinyShakespeare data, TextWriter output)
    {
        var total = Stopwatch.StartNew();
        var (model, optimizer, plan) = ParameterizedGpt.Create(setup, device);
        using var _ = model;
        using var __ = optimizer;
        long count = model.parameters().Sum(p => p.numel());
        output.WriteLine(Invariant($"device: {device.type.ToString().ToLowerInvariant()}{(device.type == DeviceType.CPU ? $" ({torch.get_num_threads()} threads)" : string.Empty)}"));
        output.WriteLine(Invariant($"model: nanoGPT width {setup.Width}, depth {setup.Depth}, {setup.Width / setup.HeadDim} heads of {setup.HeadDim}, block {setup.BlockSize}, vocab {setup.VocabSize}, {count / 1e6:F2} M parameters ({(setup.TiedHead ? "lm_head tied to wte" : "lm_head untied")}, {(setup.Bias ? "with" : "no")} biases)"));
        output.WriteLine(Invariant($"parameterization: {plan.Setup.Parameterization} from base width {setup.BaseWidth}, depth {setup.BaseDepth}: residual x{plan.Multipliers.Residual.Value:G4}, output x{plan.Multipliers.Output.Value:G4}, attention scale {plan.Multipliers.AttentionScale.Value:G4}"));
        string clipping = settings.GradClip > 0 ? Invariant($"fold-aware clipping at {settings.GradClip:G3}") : "no clipping";
        string schedule = settings.Schedule == LrSchedule.Constant
            ? Invariant($"constant after {settings.Warmup} warm-up steps")
            : Invariant($"{settings.Warmup} warm-up steps + cosine to {settings.MinLrFraction:G3}x");
        output.WriteLine(Invariant($"training: {settings.Steps} steps of {settings.BatchSize} x {settings.BlockSize} tokens, AdamW (FlatAdamW, betas {setup.Beta1:G4}/{setup.Beta2:G4}, eps {setup.Eps:G3}, weight decay {setup.WeightDecay:G3}, {clipping}), base lr {setup.LearningRate:G4} ({schedule}), seed {setup.Seed}"));

        if (setup.Modules is { Count: > 0 } modules)
        {
            output.WriteLine($"per-module base hyperparameters: {string.Join("; ", modules)} (factors on the base values, transferred with them)");
        }

        if (plan.Setup.Training is { } scaling)
        {
            var hidden = plan.Rows.First(r => r.Rule.Role == TensorRole.HiddenWeight).Applied;
            output.WriteLine(Invariant($"transfer: {scaling}: lr x sqrt(kappa), eps / sqrt(kappa), decay / sqrt(kappa) x S_base/S, betas {hidden.Beta1:G4}/{hidden.Beta2:G4} (1 - kappa*(1 - beta)); warm-up {settings.Warmup} steps"));
        }

        foreach (var warning in plan.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Subject.StartsWith("(beta", StringComparison.Ordinal)))
        {
            output.WriteLine(warning);
        }

        var curve = Trainer.Train(model, optimizer, plan, data, settings, device, (point, mean) =>
            output.WriteLine(Invariant($"step {point.Step + 1,5} | train loss {mean:F4} | {point.ElapsedSeconds,6:F1} s")));

        double train = Trainer.Evaluate(model, data, DataSplit.Train, settings.EvalBatches, settings.BatchSize, settings.BlockSize, setup.Seed + 1, device);
        double val = Trainer.Evaluate(model, data, DataSplit.Val, settings.EvalBatches, settings.BatchSize, settings.BlockSize, setup.Seed + 2, device);
        output.WriteLine(Invariant($"final: train loss {train:F4}, val loss {val:F4} (mean of {settings.EvalBatches} batches)"));

        model.eval();
        using var generator = new Generator((ulong)setup.Seed); // a CPU generator: TorchSharp 0.107 makes no CUDA ones
        using var start = torch.tensor(data.Encode(data.Text.Contains('\n', StringComparison.Ordinal) ? "\n" : data.Text[..1]), dtype: ScalarType.Int64, device: device).unsqueeze(0);
        using var tokens = model.Generate(start, 200, temperature: 0.8, generator: generator);
        output.WriteLine("sample:");
        output.WriteLine(data.Decode(tokens[0].cpu().data<long>().ToArray().Skip(1)));

        if (outDir is not null)
        {
            outDir.Create();
            var path = Path.Combine(outDir.FullName, "loss.csv");
            var csv = new StringBuilder("step,train_loss,elapsed_s\n");
            foreach (var p in curve)
            {
                csv.Append(Invariant($"{p.Step + 1},{p.TrainLoss:R},{p.ElapsedSeconds:F3}\n"));
            }

            File.WriteAllText(path, csv.ToString());
            output.WriteLine($"wrote {path}");
        }

        output.WriteLine(Invariant($"total time {total.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>The device an --device choice (cpu, cuda, auto) names; cuda without CUDA is a usage error.</summary>
    internal static Device PickDevice(string choice) => choice.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new UsageException("--device cuda: CUDA is not available here (this sample references libtorch-cpu); use cpu or auto."),
        _ => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
