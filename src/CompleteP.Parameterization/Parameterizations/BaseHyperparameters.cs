namespace CompleteP;

/// <summary>
/// The hyperparameters tuned at the base shape: learning rate <c>eta</c>, init std <c>sigma</c>,
/// AdamW weight decay <c>lambda</c> and Adam epsilon <c>eps</c>. The rules scale these to every
/// tensor of the target model.
/// </summary>
public sealed record BaseHyperparameters
{
    /// <summary>Creates the base hyperparameters.</summary>
    /// <param name="learningRate">The base learning rate <c>eta</c>; finite, greater than 0.</param>
    /// <param name="initStd">The base init standard deviation <c>sigma</c>; finite, at least 0.</param>
    /// <param name="weightDecay">The base weight decay <c>lambda</c> (PyTorch's coupled convention unless the options say otherwise); finite, at least 0.</param>
    /// <param name="adamEpsilon">The base Adam epsilon <c>eps</c>; finite, greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is NaN, infinite or outside its range.</exception>
    public BaseHyperparameters(double learningRate, double initStd, double weightDecay = 0.0, double adamEpsilon = 1e-8)
    {
        Guard.PositiveFinite(learningRate, nameof(learningRate));
        Guard.NonNegativeFinite(initStd, nameof(initStd));
        Guard.NonNegativeFinite(weightDecay, nameof(weightDecay));
        Guard.PositiveFinite(adamEpsilon, nameof(adamEpsilon));
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
}
