namespace CompleteP;

/// <summary>
/// Everything the rules say about one tensor: its init, learning rate, weight decay and Adam epsilon, as
/// plain numbers, and in <see cref="Explained"/> the formula of each. The forward multipliers are
/// model-level: see <see cref="RuleSet.Multipliers"/> and <see cref="ParameterizationPlan.Multipliers"/>.
/// </summary>
public sealed record TensorRule
{
    /// <summary>Creates a rule. Normally made by <see cref="RulesEngine"/>.</summary>
    /// <param name="role">The role the rule is for.</param>
    /// <param name="isBias">Whether the tensor is a bias or a norm's shift.</param>
    /// <param name="widthMultiplier">The width multiplier the rule used for this tensor.</param>
    /// <param name="explained">The init, learning rate, weight decay and epsilon with their formulas.</param>
    /// <param name="source">Where the rule comes from (paper table and row).</param>
    /// <param name="weightDecayConvention">How the weight decay is to be read (coupled: the per-step decay is <c>lr * wd</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The role is not defined, a number is negative or not finite, or a beta is outside [0, 1).</exception>
    internal TensorRule(TensorRole role, bool isBias, double widthMultiplier, RuleExplanation explained, string source,
        WeightDecayConvention weightDecayConvention = WeightDecayConvention.Coupled)
    {
        ArgumentNullException.ThrowIfNull(explained);
        ArgumentNullException.ThrowIfNull(source);
        if (!Enum.IsDefined(role))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, $"role must be one of {string.Join(", ", Enum.GetNames<TensorRole>())}.");
        }

        Guard.PositiveFinite(widthMultiplier, nameof(widthMultiplier));
        Guard.PositiveFinite(explained.LearningRate.Value, "learningRate");
        Guard.NonNegativeFinite(explained.WeightDecay.Value, "weightDecay");
        Guard.PositiveFinite(explained.AdamEpsilon.Value, "adamEpsilon");
        Guard.Beta(explained.Beta1.Value, "beta1");
        Guard.Beta(explained.Beta2.Value, "beta2");
        Role = role;
        IsBias = isBias;
        WidthMultiplier = widthMultiplier;
        Explained = explained;
        Source = source;
        WeightDecayConvention = weightDecayConvention;
    }

    /// <summary>The role the rule is for.</summary>
    public TensorRole Role { get; }

    /// <summary>Whether the tensor is a bias or a norm's shift.</summary>
    public bool IsBias { get; }

    /// <summary>The width multiplier used for this tensor (<c>fan_in / base_fan_in</c> for hidden weights, else <c>m_N</c>).</summary>
    public double WidthMultiplier { get; }

    /// <summary>Normal draw or constant fill.</summary>
    public InitKind InitKind => Explained.Init.Kind;

    /// <summary>The init's standard deviation for a normal draw; null for a constant fill (see <see cref="InitValue"/>).</summary>
    public double? InitStd => InitKind == InitKind.Normal ? Explained.Init.Value.Value : null;

    /// <summary>The standard deviation of a normal draw, or the constant of a constant fill (1 for norm gains, 0 for biases).</summary>
    public double InitValue => Explained.Init.Value.Value;

    /// <summary>The learning rate.</summary>
    public double LearningRate => Explained.LearningRate.Value;

    /// <summary>The weight decay, in the setup's <see cref="WeightDecayConvention"/> (coupled: the per-step decay is <c>lr * wd</c>).</summary>
    public double WeightDecay => Explained.WeightDecay.Value;

    /// <summary>The Adam epsilon.</summary>
    public double AdamEpsilon => Explained.AdamEpsilon.Value;

    /// <summary>Adam's first-moment decay <c>beta1</c>.</summary>
    public double Beta1 => Explained.Beta1.Value;

    /// <summary>Adam's second-moment decay <c>beta2</c>.</summary>
    public double Beta2 => Explained.Beta2.Value;

    /// <summary>The numbers with their formulas.</summary>
    public RuleExplanation Explained { get; }

    /// <summary>Where the rule comes from: the paper's table and row.</summary>
    public string Source { get; }

    /// <summary>How <see cref="WeightDecay"/> is to be read: coupled (PyTorch's AdamW, per-step decay <c>lr * wd</c>) or independent of the learning rate.</summary>
    public WeightDecayConvention WeightDecayConvention { get; }

    /// <summary>
    /// The rule of the same tensor with a forward multiplier <c>c</c> folded into its values (<c>V = c W</c>):
    /// init <c>c s</c>, learning rate <c>c eta</c>, epsilon <c>e / c</c>, and weight decay <c>lambda / c</c> under
    /// the coupled convention (the per-step decay <c>lr * wd</c> is unchanged; under the independent convention
    /// the value is that per-step decay and stays); the betas stay. Under Adam(W) the folded tensor follows the same trajectory
    /// as the original with the multiplier in the forward pass (rules.md, "Folding forward multipliers into weights").
    /// </summary>
    /// <param name="multiplier">The multiplier folded in.</param>
    /// <returns>The folded rule.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The multiplier is not a finite number greater than 0, or a folded number overflows or underflows the range of a normal double.</exception>
    internal TensorRule Folded(FoldedMultiplier multiplier)
    {
        ArgumentNullException.ThrowIfNull(multiplier);
        var (folded, refusal) = Fold(multiplier);
        return folded ?? throw new ArgumentOutOfRangeException(nameof(multiplier), multiplier.Value.Value, refusal);
    }

    /// <summary>
    /// <see cref="Folded"/> without the exception: the folded rule, or null and why the multiplier cannot be folded in
    /// (it is not a finite normal number greater than 0, or a folded number leaves the range of a normal double).
    /// </summary>
    internal (TensorRule? Rule, string? Refusal) Fold(FoldedMultiplier multiplier)
    {
        var c = multiplier.Value;
        if (Guard.PositiveFiniteProblem(c.Value, "multiplier") is { } invalid)
        {
            return (null, invalid);
        }

        string symbol = "c_" + multiplier.Kind.ToString().ToLowerInvariant();
        var e = Explained;
        ScaledValue initValue, lr, decay, eps;
        try
        {
            // A constant init (a norm's gain of 1, when the logit multiplier is folded into the final norm) scales like a std.
            initValue = e.Init.Kind == InitKind.Constant && e.Init.Value.Value == 0 ? e.Init.Value : e.Init.Value.Times(symbol, c.Value);
            lr = e.LearningRate.Times(symbol, c.Value);
            decay = WeightDecayConvention == WeightDecayConvention.Coupled && e.WeightDecay.Value != 0 ? e.WeightDecay.DividedBy(symbol, c.Value) : e.WeightDecay;
            eps = e.AdamEpsilon.DividedBy(symbol, c.Value);
        }
        catch (ScaledValueRangeException overflow)
        {
            return (null, $"Folding {symbol} = {c} into the {Role}{(IsBias ? " bias" : string.Empty)} rule overflows: {overflow.Reason}");
        }

        foreach (var (value, before, what) in new[] { (initValue, e.Init.Value.Value, "init"), (lr, e.LearningRate.Value, "learning rate"),
                     (decay, e.WeightDecay.Value, "weight decay"), (eps, e.AdamEpsilon.Value, "Adam epsilon") })
        {
            if (before != 0 && !double.IsNormal(value.Value))
            {
                return (null, $"Folding {symbol} = {c} into the {Role}{(IsBias ? " bias" : string.Empty)} rule underflows: its {what} {value.Formula} = {value.Substitution} = {Guard.Format(value.Value)} is below the smallest normal double ({Guard.Format(Guard.SmallestNormal)}).");
            }
        }

        var init = e.Init.Kind == InitKind.Normal ? InitRule.Normal(initValue)
            : e.Init.Value.Value == 0 ? e.Init : new InitRule(InitKind.Constant, initValue);
        return (new TensorRule(Role, IsBias, WidthMultiplier,
            new RuleExplanation(init, lr, decay, eps, e.Beta1, e.Beta2),
            $"{Source}; {symbol} = {c} folded in", WeightDecayConvention), null);
    }
}
