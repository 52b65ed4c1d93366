namespace NanoGpt;

/// <summary>How to train: steps, batch shape, logging and evaluation, gradient clipping and the LR schedule.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="BatchSize">Sequences per batch.</param>
/// <param name="BlockSize">Tokens per sequence.</param>
/// <param name="LogInterval">Report progress every this many steps.</param>
/// <param name="EvalBatches">Batches averaged for the final train and val losses.</param>
/// <param name="Seed">Seed of the batch sampler and of the sample text.</param>
/// <param name="GradClip">Global gradient-norm clip (nanoGPT: 1.0); 0 turns it off.</param>
/// <param name="WarmupFraction">Share of the steps with linear LR warm-up when <paramref name="WarmupSteps"/> is null and the schedule is cosine.</param>
/// <param name="MinLrFraction">The cosine decay ends at this share of each group's LR.</param>
/// <param name="Schedule">Constant, or warm-up + cosine (the default).</param>
/// <param name="WarmupSteps">Steps of linear warm-up; null for <paramref name="WarmupFraction"/> of the steps under cosine and none under constant.</param>
public sealed record TrainSettings(
    int Steps,
    int BatchSize,
    int BlockSize,
    int LogInterval,
    int EvalBatches,
    long Seed,
    double GradClip = 1.0,
    double WarmupFraction = 0.05,
    double MinLrFraction = 0.1,
    LrSchedule Schedule = LrSchedule.Cosine,
    int? WarmupSteps = null)
{
    /// <summary>The steps of linear warm-up this schedule takes (at most <see cref="Steps"/>).</summary>
    public int Warmup => Math.Min(Steps, WarmupSteps ?? (Schedule == LrSchedule.Cosine ? (int)Math.Ceiling(WarmupFraction * Steps) : 0));

    /// <summary>
    /// The LR factor of step <paramref name="step"/> (0-based): linear warm-up over <see cref="Warmup"/> steps, then
    /// 1 (constant) or cosine decay to <see cref="MinLrFraction"/>, as nanoGPT's <c>get_lr</c>. It multiplies every
    /// parameter group's own LR, so the parameterization's per-tensor ratios are kept.
    /// </summary>
    public double LrFactor(int step)
    {
        int warmup = Warmup;
        if (step < warmup)
        {
            return (step + 1.0) / warmup;
        }

        if (Schedule == LrSchedule.Constant)
        {
            return 1.0;
        }

        double progress = Steps > warmup ? (double)(step - warmup) / (Steps - warmup) : 1.0;
        return MinLrFraction + (1 - MinLrFraction) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
