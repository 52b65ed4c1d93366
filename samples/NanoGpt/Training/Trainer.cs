using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>nanoGPT's training loop, shrunk: sample a batch, forward, backward, clip, AdamW step, with a warm-up + cosine LR schedule.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> with <paramref name="optimizer"/> (already parameterized)
    /// and returns the loss of every step. <paramref name="progress"/> gets the latest point and
    /// the mean training loss since the previous report, every <see cref="TrainSettings.LogInterval"/> steps and at the end.
    /// A loss that is NaN or infinite stops the run with a <see cref="CompleteP.NonFiniteValueException"/> that names the step
    /// and the module whose output first held the value.
    /// </summary>
    public static IReadOnlyList<LossPoint> Train(Gpt model, optim.Optimizer optimizer, TinyShakespeare data, TrainSettings settings,
        Device device, Action<LossPoint, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);

        // LambdaLR multiplies each group's initial LR: the per-tensor LRs keep their ratios.
        var schedule = optim.lr_scheduler.LambdaLR(optimizer, settings.LrFactor);
        using var generator = new Generator((ulong)settings.Seed);
        var curve = new List<LossPoint>(settings.Steps);
        var parameters = model.parameters().ToList();
        double sinceReport = 0;
        int reported = 0;
        var clock = Stopwatch.StartNew();
        model.train();
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.GetBatch(DataSplit.Train, settings.BatchSize, settings.BlockSize, generator, device);
            optimizer.zero_grad();
            var loss = model.Loss(x, y);
            float value = loss.item<float>();

            // NaN or an infinity stops the run at the step, before an update spreads it: the step's forward runs again to name
            // the module where it first appears.
            CompleteP.NonFiniteValues.ThrowIfNonFinite(value, step + 1, model, () => model.Loss(x, y), "train");
            loss.backward();
            if (settings.GradClip > 0)
            {
                nn.utils.clip_grad_norm_(parameters, settings.GradClip);
            }

            optimizer.step();
            schedule.step();

            var point = new LossPoint(step, value, clock.Elapsed.TotalSeconds);
            curve.Add(point);
            sinceReport += point.TrainLoss;
            if ((step + 1) % settings.LogInterval == 0 || step == settings.Steps - 1)
            {
                progress?.Invoke(point, sinceReport / (step + 1 - reported));
                sinceReport = 0;
                reported = step + 1;
            }
        }

        return curve;
    }

    /// <summary>The mean loss over <paramref name="batches"/> batches of a split, in eval mode, with a fixed seed.</summary>
    public static double Evaluate(Gpt model, TinyShakespeare data, DataSplit split, int batches, int batchSize, int blockSize, long seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        model.eval();
        double total = 0;
        for (int i = 0; i < batches; i++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.GetBatch(split, batchSize, blockSize, generator, device);
            total += model.Loss(x, y).item<float>();
        }

        model.train();
        return total / batches;
    }
}
