namespace CompleteP;

/// <summary>
/// The hyperparameters tuned at the base shape: learning rate <c>eta</c>, init std <c>sigma</c>,
/// AdamW weight decay <c>lambda</c>, Adam epsilon <c>eps</c> and Adam's <c>beta1</c> and <c>beta2</c>. The rules
/// scale these to every tensor of the target model (and, given training shapes, to the target run's batch size and length).
/// <see cref="Modules"/> holds per-module factors on these base values, tuned at the base shape and transferred by the same rules.
/// </summary>
public sealed record BaseHyperparameters
{
    /// <summary>Creates the base hyperparameters.</summary>
    /// <param name="learningRate">The base learning rate <c>eta</c>; finite, greater than 0.</param>
    /// <param name="initStd">The base init standard deviation <c>sigma</c>; finite, at least 0.</param>
    /// <param name="weightDecay">The base weight decay <c>lambda</c> (PyTorch's coupled convention unless the options say otherwise); finite, at least 0.</param>
    /// <param name="adamEpsilon">The base Adam epsilon <c>eps</c>; finite, greater than 0.</param>
    /// <param name="beta1">Adam's base first-moment decay <c>beta1</c>; in [0, 1). PyTorch's default, 0.9.</param>
    /// <param name="beta2">Adam's base second-moment decay <c>beta2</c>; in [0, 1). PyTorch's default, 0.999.</param>
    /// <param name="modules">
    /// Per-module base hyperparameters: factors on the base learning rate, init std, weight decay or epsilon of the tensors each
    /// selects (by role or name pattern), tuned at the base shape; every entry matching a tensor multiplies its value. Null or empty: none.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A value is NaN, infinite or outside its range.</exception>
    /// <exception cref="ArgumentException"><paramref name="modules"/> holds a null entry, or two entries of the same selector and field.</exception>
    public BaseHyperparameters(double learningRate, double initStd, double weightDecay = 0.0, double adamEpsilon = 1e-8, double beta1 = 0.9, double beta2 = 0.999,
        IReadOnlyList<ModuleHyperparameter>? modules = null)
    {
        Guard.PositiveFinite(learningRate, nameof(learningRate));
        Guard.NonNegativeFinite(initStd, nameof(initStd));
        Guard.NonNegativeFinite(weightDecay, nameof(weightDecay));
        Guard.PositiveFinite(adamEpsilon, nameof(adamEpsilon));
        Guard.Beta(beta1, nameof(beta1));
        Guard.Beta(beta2, nameof(beta2));
        Beta1 = beta1;
        Beta2 = beta2;
        LearningRate = learningRate;
        InitStd = initStd;
        WeightDecay = weightDecay;
        AdamEpsilon = adamEpsilon;
        Modules = modules?.ToArray() ?? [];
        if (Modules.Any(m => m is null))
        {
            throw new ArgumentException("modules must not hold a null entry.", nameof(modules));
        }

        var twice = Modules.GroupBy(m => (m.Selector, m.Field)).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new ArgumentException($"modules holds '{twice.Key.Selector}.{twice.First().FieldName}' {twice.Count()} times: give each selector and field once " +
                                        "(entries of different selectors that match the same tensor multiply).", nameof(modules));
        }
    }

    /// <summary>The base learning rate <c>eta</c>.</summary>
    public double LearningRate { get; }

    /// <summary>The base init standard deviation <c>sigma</c>.</summary>
    public double InitStd { get; }

    /// <summary>The base weight decay <c>lambda</c>.</summary>
    public double WeightDecay { get; }

    /// <summary>The base Adam epsilon <c>eps</c>.</summary>
    public double AdamEpsilon { get; }

    /// <summary>Adam's base first-moment decay <c>beta1</c>.</summary>
    public double Beta1 { get; }

    /// <summary>Adam's base second-moment decay <c>beta2</c>.</summary>
    public double Beta2 { get; }

    /// <summary>Per-module base hyperparameters: factors on the base values of the tensors each entry selects; empty when none.</summary>
    public IReadOnlyList<ModuleHyperparameter> Modules { get; }

    /// <summary>Value equality, <see cref="Modules"/> compared element by element.</summary>
    /// <param name="other">The other hyperparameters.</param>
    /// <returns>True when every member is equal.</returns>
    public bool Equals(BaseHyperparameters? other) =>
        other is not null && LearningRate.Equals(other.LearningRate) && InitStd.Equals(other.InitStd) && WeightDecay.Equals(other.WeightDecay)
        && AdamEpsilon.Equals(other.AdamEpsilon) && Beta1.Equals(other.Beta1) && Beta2.Equals(other.Beta2) && Modules.SequenceEqual(other.Modules);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(LearningRate, InitStd, WeightDecay, AdamEpsilon, Beta1, Beta2, Modules.Count);

    /// <summary>The record's printed members, <see cref="Modules"/> in their text form.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"LearningRate = {LearningRate}, InitStd = {InitStd}, WeightDecay = {WeightDecay}, AdamEpsilon = {AdamEpsilon}, Beta1 = {Beta1}, Beta2 = {Beta2}, Modules = [{string.Join(", ", Modules)}]");
        return true;
    }

    /// <summary>The factors on the base values that apply to a tensor of <paramref name="role"/> known by <paramref name="names"/>.</summary>
    internal IEnumerable<ModuleHyperparameter> For(HyperparameterField field, TensorRole role, IReadOnlyList<string> names) =>
        Modules.Where(m => m.Field == field && m.Matches(role, names));

    /// <summary>The per-branch residual multipliers (field <c>res</c>): the entries that select residual branches, not tensors.</summary>
    internal IEnumerable<ModuleHyperparameter> ResidualMultipliers => Modules.Where(m => m.Field == HyperparameterField.ResidualMultiplier);
}
