namespace CompleteP;

/// <summary>
/// Which base hyperparameter a <see cref="ModuleHyperparameter"/> multiplies. In the text form
/// (<c>selector.field=factor</c>) the fields are written <c>lr</c>, <c>init</c>, <c>wd</c> and <c>eps</c>.
/// </summary>
public enum HyperparameterField
{
    /// <summary>The base learning rate <c>eta</c> (<c>lr</c>).</summary>
    LearningRate,

    /// <summary>The base init standard deviation <c>sigma</c> of normal-initialized tensors (<c>init</c>).</summary>
    InitStd,

    /// <summary>The base weight decay <c>lambda</c> (<c>wd</c>).</summary>
    WeightDecay,

    /// <summary>The base Adam epsilon <c>eps</c> (<c>eps</c>).</summary>
    AdamEpsilon,
}
