using System.Diagnostics;
using CompleteP;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// nanoGPT's training loop, shrunk: sample a batch, forward, backward, clip, AdamW step, with a warm-up + cosine LR
/// schedule. On a GPU nothing in the loop waits for the device: every batch's window starts are drawn before the
/// first step and copied there once, each batch is gathered there, and the losses stay there until a report (every
/// <see cref="TrainSettings.LogInterval"/> steps and at the end) reads them all at once.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> with <paramref name="optimizer"/> (both parameterized by <paramref name="plan"/>)
    /// and returns the loss of every step. <paramref name="progress"/> gets the latest point and the mean training loss
    /// since the previous report, every <see cref="TrainSettings.LogInterval"/> steps and at the end.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer (<see cref="CompleteP.Optimizers.FlatAdamW"/> on a GPU).</param>
    /// <param name="plan">The plan <see cref="Parameterize.Apply"/> returned (for fold-aware clipping).</param>
    /// <param name="data">The corpus.</param>
    /// <param name="settings">Steps, batch shape, logging, clipping and schedule.</param>
    /// <param name="device">Where the model lives; batches are drawn there.</param>
    /// <param name="progress">Called at every report.</param>
    /// <returns>One point per step; a point's time is when its step was issued (on a GPU the device may still be running it).</returns>
    /// <exception cref="TrainingDivergedException">A step's loss was NaN or infinite: on the CPU found before its update, with the module where the value
    /// first appears; on a GPU found at the report that read it.</exception>
    public static IReadOnlyList<LossPoint> Train(Gpt model, optim.Optimizer optimizer, ParameterizationPlan plan, TinyShakespeare data, TrainSettings settings,
        Device device, Action<LossPoint, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);

        // LambdaLR multiplies each group's initial LR: the per-tensor LRs keep their ratios.
        var schedule = optim.lr_scheduler.LambdaLR(optimizer, settings.LrFactor);
        var step = new TrainingStep(model, optimizer, plan, settings.GradClip);
        using var generator = new Generator((ulong)settings.Seed);
        using var starts = data.DrawStarts(DataSplit.Train, settings.Steps, settings.BatchSize, settings.BlockSize, generator, device).DetachFromDisposeScope(); // (steps, B)
        var curve = new List<LossPoint>(settings.Steps);
        var pending = new List<(int Step, Tensor Loss, double Issued)>();
        var clock = Stopwatch.StartNew();
        model.train();
        try
        {
            for (int i = 0; i < settings.Steps; i++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var (x, y) = data.Window(DataSplit.Train, starts[i], settings.BlockSize); // (B, T) each, on the device

                    // On the CPU there is no device to wait for: each loss is read before its update, so NaN or an infinity
                    // stops the run at its step, naming the module where it first appears (the step's forward run again).
                    int current = i;
                    Action<Tensor>? check = device.type == DeviceType.CPU
                        ? loss => StopIfDiverged(model, current, loss.item<float>(), () => model.Loss(x, y))
                        : null;
                    pending.Add((i, step.Run(x, y, check).DetachFromDisposeScope(), clock.Elapsed.TotalSeconds));
                    schedule.step();
                }

                if ((i + 1) % settings.LogInterval == 0 || i == settings.Steps - 1)
                {
                    var read = Read(pending);
                    curve.AddRange(read);
                    progress?.Invoke(read[^1], read.Average(p => p.TrainLoss));
                }
            }
        }
        finally
        {
            pending.ForEach(p => p.Loss.Dispose());
        }

        return curve;
    }

    /// <summary>Throws <see cref="TrainingDivergedException"/> with the module where the value first appears when a step's loss is not finite.</summary>
    private static void StopIfDiverged(Gpt model, int step, float loss, Action forward)
    {
        if (!float.IsFinite(loss))
        {
            throw new TrainingDivergedException(step, loss, NonFiniteValues.Locate(model, forward));
        }
    }

    /// <summary>The mean loss over <paramref name="batches"/> batches of a split, in eval mode, with a fixed seed (one wait for the device at the end).</summary>
    public static double Evaluate(Gpt model, TinyShakespeare data, DataSplit split, int batches, int batchSize, int blockSize, long seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        using var scope = torch.NewDisposeScope();
        using var starts = data.DrawStarts(split, batches, batchSize, blockSize, generator, device).DetachFromDisposeScope(); // (batches, B)
        model.eval();
        var total = torch.zeros([], device: device);
        for (int i = 0; i < batches; i++)
        {
            var (x, y) = data.Window(split, starts[i], blockSize);
            total.add_(model.Loss(x, y));
        }

        model.train();
        return total.item<float>() / batches;
    }

    /// <summary>Reads the pending losses in one transfer, clears them, and throws at the first one that is not finite.</summary>
    private static List<LossPoint> Read(List<(int Step, Tensor Loss, double Issued)> pending)
    {
        float[] values;
        using (var all = torch.stack(pending.Select(p => p.Loss).ToArray()).cpu())
        {
            values = all.data<float>().ToArray();
        }

        var points = new List<LossPoint>(pending.Count);
        for (int k = 0; k < pending.Count; k++)
        {
            if (!float.IsFinite(values[k]))
            {
                throw new TrainingDivergedException(pending[k].Step, values[k]);
            }

            points.Add(new LossPoint(pending[k].Step, values[k], pending[k].Issued));
        }

        pending.ForEach(p => p.Loss.Dispose());
        pending.Clear();
        return points;
    }
}
