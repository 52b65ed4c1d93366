namespace CompleteP;

/// <summary>
/// The hyperparameters tuned at the base shape: learning rate <c>eta</c>, init std <c>sigma</c>,
/// AdamW weight decay <c>lambda</c>, Adam epsilon <c>eps</c> and Adam's <c>beta1</c> and <c>beta2</c>. The rules
/// scale these to every tensor of the target model (and, given training shapes, to the target run's batch size and length).
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
    /// <exception cref="ArgumentOutOfRangeException">A value is NaN, infinite or outside its range.</exception>
    public BaseHyperparameters(double learningRate, double initStd, double weightDecay = 0.0, double adamEpsilon = 1e-8, double beta1 = 0.9, double beta2 = 0.999)
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
}
