namespace CompleteP;

/// <summary>
/// Keeps every number the engine returns finite and either exactly 0 or a normal double. A product of a base
/// hyperparameter and the shape multipliers that overflows to infinity, or underflows to 0 or to a subnormal
/// number (which has lost its precision), becomes an <see cref="ArgumentOutOfRangeException"/> that names the
/// argument to change, the formula with its numbers, and the inputs it came from.
/// </summary>
internal static class RuleRange
{
    /// <summary>Checks the numbers of a rule the engine computed.</summary>
    public static void Check(RuleSetup setup, TensorDescriptor tensor, RuleExplanation e, string blame)
    {
        var hp = setup.Hyperparameters;
        if (e.Init.Kind == InitKind.Normal)
        {
            Underflow(setup, tensor, "init std", e.Init.Value, hp.InitStd, blame);
        }

        Underflow(setup, tensor, "learning rate", e.LearningRate, hp.LearningRate, blame);
        Underflow(setup, tensor, "weight decay", e.WeightDecay, IsConstantZero(e.WeightDecay) ? 0 : hp.WeightDecay, blame);
        Underflow(setup, tensor, "Adam epsilon", e.AdamEpsilon, hp.AdamEpsilon, blame);
    }

    /// <summary>The exception for a formula that overflowed while the engine computed a tensor's rule.</summary>
    public static ArgumentOutOfRangeException Overflow(RuleSetup setup, TensorDescriptor tensor, ScaledValueRangeException e, string blame) =>
        new(blame, $"The {Describe(tensor)} rule overflows: {e.Formula} = {e.Substitution} is not a finite number (a double holds at most about 1.8E+308). " +
                   $"{Inputs(setup, tensor)} Choose base hyperparameters or shapes whose product stays within the range of a double.");

    /// <summary>The exception for a forward multiplier whose formula overflowed.</summary>
    public static ArgumentOutOfRangeException MultiplierOverflow(RuleSetup setup, ScaledValueRangeException e, string fix) =>
        new("options", $"A forward multiplier overflows: {e.Formula} = {e.Substitution} is not a finite number (a double holds at most about 1.8E+308). {Inputs(setup, null)} {fix}");

    /// <summary>Checks a model-level forward multiplier: finite and a normal double.</summary>
    public static void Multiplier(RuleSetup setup, string what, ScaledValue value, string blame, string cause)
    {
        if (!double.IsNormal(value.Value))
        {
            throw new ArgumentOutOfRangeException(blame,
                $"The {what} {value.Formula} = {value.Substitution} = {Guard.Format(value.Value)} underflows below the smallest normal double ({Guard.Format(Guard.SmallestNormal)}): " +
                $"it would zero the forward pass or lose its precision. {Inputs(setup, null)} Raise {cause}.");
        }
    }

    /// <summary>Checks that a rule with a multiplier folded into it stays in range; the exception names <paramref name="blame"/>.</summary>
    public static void Fold(RuleSetup setup, TensorDescriptor tensor, TensorRule rule, FoldedMultiplier multiplier, string blame)
    {
        if (rule.Fold(multiplier).Refusal is { } refusal)
        {
            throw new ArgumentOutOfRangeException(blame, $"The {Describe(tensor)} rule with the {multiplier.Kind.ToString().ToLowerInvariant()} multiplier folded in (MultiplierMode.Fold): {refusal} {Inputs(setup, tensor)}");
        }
    }

    private static void Underflow(RuleSetup setup, TensorDescriptor tensor, string quantity, ScaledValue value, double baseValue, string blame)
    {
        if (baseValue == 0 || double.IsNormal(value.Value))
        {
            return;
        }

        throw new ArgumentOutOfRangeException(blame,
            $"The {Describe(tensor)} {quantity} underflows: {value.Formula} = {value.Substitution} = {Guard.Format(value.Value)}, below the smallest normal double " +
            $"({Guard.Format(Guard.SmallestNormal)}), so it is 0 or has lost its precision. {Inputs(setup, tensor)} Choose base hyperparameters or shapes whose product stays within the range of a double.");
    }

    private static bool IsConstantZero(ScaledValue value) => value.Value == 0 && value.Formula == ScaledValue.Format(0);

    private static string Describe(TensorDescriptor? tensor) => tensor is null
        ? "model"
        : $"{tensor.Role}{(tensor.IsBias ? " bias" : string.Empty)}{(tensor.FanIn is { } f ? $" (fan-in {f}, base fan-in {tensor.BaseFanIn})" : string.Empty)}";

    /// <summary>The inputs of every formula: the base hyperparameters, the multipliers and the exponent, with the arguments that set them.</summary>
    private static string Inputs(RuleSetup setup, TensorDescriptor? tensor)
    {
        var hp = setup.Hyperparameters;
        var s = setup.Scaling;
        string alpha = setup.Parameterization.DepthExponent is { } a ? $", alpha = {Guard.Format(a)}" : string.Empty;
        string fan = tensor?.FanIn is { } f ? $", the tensor's m_N = fan_in / base_fan_in = {f} / {tensor.BaseFanIn}" : string.Empty;
        return $"Inputs: eta = hyperparameters.LearningRate = {Guard.Format(hp.LearningRate)}, sigma = hyperparameters.InitStd = {Guard.Format(hp.InitStd)}, " +
               $"lambda = hyperparameters.WeightDecay = {Guard.Format(hp.WeightDecay)}, eps = hyperparameters.AdamEpsilon = {Guard.Format(hp.AdamEpsilon)}, " +
               $"alpha_in = options.InputMultiplier = {Guard.Format(setup.Options.InputMultiplier)}, alpha_out = options.OutputMultiplier = {Guard.Format(setup.Options.OutputMultiplier)}, " +
               $"alpha_attn = options.AttentionMultiplier = {Guard.Format(setup.Options.AttentionMultiplier)}, " +
               $"m_N = {setup.Target.Width} / {setup.BaseShape.Width} = {Guard.Format(s.WidthMultiplier)}, m_L = {setup.Target.Depth} / {setup.BaseShape.Depth} = {Guard.Format(s.DepthMultiplier)}{alpha}{fan}.{TrainingRules.Inputs(setup)}";
    }
}
