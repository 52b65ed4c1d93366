namespace CompleteP;

/// <summary>
/// The rules for a change of batch size and training length (docs/rules.md, "Batch size and training length"), applied
/// after Table 1's width and depth factors and before any multiplier is folded in. With <c>kappa = B / B_base</c> (tokens
/// per step) and the step ratio <c>S / S_base</c>:
/// <list type="bullet">
/// <item>Adam's square-root rule (Malladi et al. 2022, arXiv 2205.10287): learning rate <c>x sqrt(kappa)</c>, epsilon
/// <c>/ sqrt(kappa)</c>, <c>beta' = 1 - kappa*(1 - beta)</c>;</item>
/// <item>AdamW's timescale (Wang and Aitchison 2024, arXiv 2405.13698): the total decay <c>lr * wd * S</c> equals the base
/// run's, so a coupled weight decay gets <c>/ sqrt(kappa) * (S_base/S)</c> and an independent one <c>* (S_base/S)</c>;</item>
/// <item>with <see cref="RuleOptions.TimescaleExponent"/> <c>m</c> (Power Lines, Bergsma et al. 2025, arXiv 2505.13738): the
/// timescale scales as <c>(TPP/TPP_base)^m</c>, so the decay gets <c>(TPP/TPP_base)^-m</c>, with
/// <c>TPP/TPP_base = (D/D_base) / (m_N^2 * m_L)</c>.</item>
/// </list>
/// Pure: every number comes from the setup.
/// </summary>
internal static class TrainingRules
{
    /// <summary>A transferred beta below this is a warning: the moment averages over fewer than 2 steps.</summary>
    public const double LowBeta = 0.5;

    /// <summary>Where the rules come from, appended to a rule's source when the setup has training shapes.</summary>
    public const string Source = "batch size: Malladi et al. 2022 (arXiv 2205.10287), Adam's square-root rule; length: Wang and Aitchison 2024 (arXiv 2405.13698), AdamW's timescale";

    /// <summary>
    /// Checks the training part of a setup: both shapes or neither, the Power Lines exponent only with them, and Adam's
    /// square-root rule keeps each beta a beta (<c>kappa * (1 - beta) &lt; 1</c> when the batch grows).
    /// </summary>
    public static void CheckSetup(BaseHyperparameters hyperparameters, RuleOptions options, TrainingShape? baseTraining, TrainingShape? targetTraining)
    {
        if ((baseTraining is null) != (targetTraining is null))
        {
            string missing = baseTraining is null ? "baseTraining" : "targetTraining";
            throw new ArgumentException(
                $"{missing} is null but {(baseTraining is null ? "targetTraining" : "baseTraining")} is not: give both training shapes (the base run's and the target's tokens per step and tokens) or neither.",
                missing);
        }

        if (baseTraining is null || targetTraining is null)
        {
            if (options.TimescaleExponent != 0)
            {
                throw new ArgumentException(
                    $"options.TimescaleExponent (Power Lines' m = {Guard.Format(options.TimescaleExponent)}) scales the weight decay by tokens per parameter, which needs the base and target training shapes; none were given.",
                    nameof(options));
            }

            return;
        }

        var scaling = new TrainingScaling(baseTraining, targetTraining);
        foreach (var (symbol, name, beta) in new[] { ("beta1", "Beta1", hyperparameters.Beta1), ("beta2", "Beta2", hyperparameters.Beta2) })
        {
            if (!Allowed(scaling.BatchMultiplier, beta))
            {
                long largest = LargestTokensPerStep(baseTraining.TokensPerStep, beta);
                double kappa = scaling.BatchMultiplier;
                throw new ArgumentOutOfRangeException(nameof(targetTraining),
                    $"targetTraining.TokensPerStep = {targetTraining.TokensPerStep} is too large for Adam's square-root rule (Malladi et al. 2022) on hyperparameters.{name}: " +
                    $"{symbol}' = 1 - kappa*(1 - {symbol}) = 1 - {Guard.Short(kappa)}*(1 - {Guard.Format(beta)}) = {Guard.Short(1 - (kappa * (1 - beta)))} is no decay rate, " +
                    $"since kappa*(1 - {symbol}) = {Guard.Short(kappa * (1 - beta))} is not below 1 (kappa = B / B_base = {targetTraining.TokensPerStep} / {baseTraining.TokensPerStep}). " +
                    $"The rule allows fewer than B_base / (1 - {symbol}) = {baseTraining.TokensPerStep} / {Guard.Short(1 - beta)} = {Guard.Short(baseTraining.TokensPerStep / (1 - beta))} tokens per step: " +
                    $"at most {largest}. Use a smaller batch, a larger base batch, or a base {symbol} closer to 1.");
            }
        }
    }

    /// <summary>
    /// Whether the square-root rule gives a valid beta: a batch that does not grow always does, a larger one while
    /// <c>kappa * (1 - beta) &lt; 1</c>, to a relative 1e-12, so that a decimal beta has its decimal limit (<c>1 - 0.9</c> is
    /// <c>0.09999999999999998</c> in doubles, which would let 10 times the base batch through with a beta of 2e-16).
    /// </summary>
    private static bool Allowed(double kappa, double beta) => kappa <= 1 || kappa * (1 - beta) < 1 - BoundTolerance;

    private const double BoundTolerance = 1e-12;

    /// <summary>The largest tokens per step for which <see cref="Allowed"/> holds, computed with the same doubles as the check.</summary>
    internal static long LargestTokensPerStep(long baseTokensPerStep, double beta)
    {
        double bound = Math.Floor(baseTokensPerStep / (1 - beta));
        long t = bound >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)bound;
        while (t > baseTokensPerStep && !Allowed((double)t / baseTokensPerStep, beta))
        {
            t--;
        }

        while (t < long.MaxValue / 2 && Allowed((double)(t + 1) / baseTokensPerStep, beta))
        {
            t++;
        }

        return t;
    }

    /// <summary>
    /// A rule's learning rate, weight decay and epsilon, after Table 1, with the batch and length factors; unchanged without
    /// training shapes. A weight decay that is the rule's constant 0 (norms, biases) stays that constant.
    /// </summary>
    public static (ScaledValue LearningRate, ScaledValue WeightDecay, ScaledValue AdamEpsilon) Scale(RuleSetup setup, ScaledValue lr, ScaledValue wd, ScaledValue eps)
    {
        if (setup.Training is not { } training)
        {
            return (lr, wd, eps);
        }

        double sqrtKappa = Math.Sqrt(training.BatchMultiplier);
        lr = lr.Times("sqrt(kappa)", sqrtKappa);
        eps = eps.DividedBy("sqrt(kappa)", sqrtKappa);
        if (!(wd.Value == 0 && wd.Formula == ScaledValue.Format(0)))
        {
            if (setup.Options.WeightDecayConvention == WeightDecayConvention.Coupled)
            {
                wd = wd.DividedBy("sqrt(kappa)", sqrtKappa);
            }

            wd = wd.Times("(S_base/S)", training.Base.Steps / training.Target.Steps);
            if (setup.Options.TimescaleExponent != 0)
            {
                wd = wd.Times("(TPP/TPP_base)", TokensPerParameterRatio(setup, training), -setup.Options.TimescaleExponent, "-m");
            }
        }

        return (lr, wd, eps);
    }

    /// <summary>
    /// <c>TPP / TPP_base = (D / D_base) / (N_params / N_params_base)</c>, with the parameter count of the hidden weights,
    /// which grows as <c>m_N^2 * m_L</c>.
    /// </summary>
    internal static double TokensPerParameterRatio(RuleSetup setup, TrainingScaling training)
    {
        double mN = setup.Scaling.WidthMultiplier;
        return training.TokenMultiplier / (mN * mN * setup.Scaling.DepthMultiplier);
    }

    /// <summary>Adam's <c>beta1</c> of every rule: the base value, or <c>1 - kappa*(1 - beta1)</c> with training shapes.</summary>
    public static ScaledValue Beta1(RuleSetup setup) => Beta(setup, "beta1", setup.Hyperparameters.Beta1);

    /// <summary>Adam's <c>beta2</c> of every rule: the base value, or <c>1 - kappa*(1 - beta2)</c> with training shapes.</summary>
    public static ScaledValue Beta2(RuleSetup setup) => Beta(setup, "beta2", setup.Hyperparameters.Beta2);

    private static ScaledValue Beta(RuleSetup setup, string symbol, double beta)
    {
        if (setup.Training is not { } training)
        {
            return ScaledValue.Base(symbol, beta);
        }

        double kappa = training.BatchMultiplier;
        return new ScaledValue(1 - (kappa * (1 - beta)), $"1 - kappa*(1 - {symbol})", $"1 - {ScaledValue.Format(kappa)}*(1 - {ScaledValue.Format(beta)})");
    }

    /// <summary>The warnings of a setup's training rules: a transferred beta below 0.5. Empty without training shapes.</summary>
    public static IReadOnlyList<PlanDiagnostic> Warnings(RuleSetup setup)
    {
        if (setup.Training is null)
        {
            return [];
        }

        var warnings = new List<PlanDiagnostic>();
        foreach (var (symbol, beta) in new[] { ("beta1", Beta1(setup)), ("beta2", Beta2(setup)) })
        {
            if (beta.Value < LowBeta)
            {
                warnings.Add(new PlanDiagnostic(DiagnosticSeverity.Warning, $"({symbol})",
                    $"Adam's square-root rule gives {symbol} = {beta} (kappa = {ScaledValue.Format(setup.Training.BatchMultiplier)}), below {ScaledValue.Format(LowBeta)}: " +
                    $"the moment averages over about {ScaledValue.Format(1 / (1 - beta.Value))} steps, a regime where the SDE approximation behind the rule (Malladi et al. 2022) is loose. " +
                    "Tune at a base batch closer to the target's, or use a smaller batch."));
            }
        }

        return warnings;
    }

    /// <summary>The inputs of the training factors, for error messages; empty without training shapes.</summary>
    public static string Inputs(RuleSetup setup) => setup.Training is { } t
        ? $" kappa = targetTraining.TokensPerStep / baseTraining.TokensPerStep = {t.Target.TokensPerStep} / {t.Base.TokensPerStep}, S/S_base = {Guard.Format(t.StepMultiplier)}" +
          (setup.Options.TimescaleExponent != 0 ? $", m = options.TimescaleExponent = {Guard.Format(setup.Options.TimescaleExponent)}, TPP/TPP_base = {Guard.Format(TokensPerParameterRatio(setup, t))}." : ".")
        : string.Empty;
}
