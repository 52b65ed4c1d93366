namespace CompleteP;

/// <summary>
/// The step from the base run's training shape (where the base hyperparameters were tuned) to the target run's:
/// the batch multiplier <c>kappa = B / B_base</c> (tokens per step), the token multiplier <c>D / D_base</c> and the
/// step multiplier <c>S / S_base</c>. Warm-up and decay lengths carry over as fractions of the run:
/// <see cref="TargetSteps(long)"/> maps a base step count to the target's.
/// </summary>
public sealed record TrainingScaling
{
    /// <summary>Creates the scaling from <paramref name="baseShape"/> to <paramref name="target"/>.</summary>
    /// <param name="baseShape">The base run's training shape.</param>
    /// <param name="target">The target run's training shape.</param>
    /// <exception cref="ArgumentNullException">A shape is null.</exception>
    public TrainingScaling(TrainingShape baseShape, TrainingShape target)
    {
        ArgumentNullException.ThrowIfNull(baseShape);
        ArgumentNullException.ThrowIfNull(target);
        Base = baseShape;
        Target = target;
    }

    /// <summary>The base run's training shape (<c>B_base</c>, <c>D_base</c>).</summary>
    public TrainingShape Base { get; }

    /// <summary>The target run's training shape (<c>B</c>, <c>D</c>).</summary>
    public TrainingShape Target { get; }

    /// <summary>The batch multiplier <c>kappa = B / B_base</c>, in tokens per step.</summary>
    public double BatchMultiplier => (double)Target.TokensPerStep / Base.TokensPerStep;

    /// <summary>The token multiplier <c>D / D_base</c>.</summary>
    internal double TokenMultiplier => (double)Target.Tokens / Base.Tokens;

    /// <summary>The step multiplier <c>S / S_base</c>: how many times longer (in steps) the target run is.</summary>
    public double StepMultiplier => Target.Steps / Base.Steps;

    /// <summary>
    /// A step count of the base run (a warm-up, a decay phase, an evaluation interval) carried over as the same fraction
    /// of the target run: <c>round(baseSteps * S / S_base)</c>, at least 1 when <paramref name="baseSteps"/> is at least 1.
    /// </summary>
    /// <param name="baseSteps">The step count in the base run; at least 0.</param>
    /// <returns>The step count in the target run.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="baseSteps"/> is negative, or the result does not fit a long.</exception>
    public long TargetSteps(long baseSteps)
    {
        if (baseSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(baseSteps), baseSteps, $"baseSteps must be at least 0 (valid range: 0 and above), but was {baseSteps}.");
        }

        double steps = Math.Round(baseSteps * StepMultiplier, MidpointRounding.AwayFromZero);
        if (steps >= long.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(baseSteps), baseSteps, $"{baseSteps} base steps times S/S_base = {Guard.Format(StepMultiplier)} does not fit a long.");
        }

        return baseSteps == 0 ? 0 : Math.Max(1, (long)steps);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Base.TokensPerStep} -> {Target.TokensPerStep} tokens per step (kappa = {Guard.Short(BatchMultiplier)}), " +
        $"{Guard.Short(Base.Steps)} -> {Guard.Short(Target.Steps)} steps (S/S_base = {Guard.Short(StepMultiplier)})";
}
