namespace CompleteP;

/// <summary>
/// Which base hyperparameter a <see cref="ModuleHyperparameter"/> multiplies. In the text form
/// (<c>selector.field=factor</c>) the fields are written <c>lr</c>, <c>init</c>, <c>wd</c>, <c>eps</c> and <c>res</c>.
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

    /// <summary>
    /// The residual multiplier of the residual branches whose module names the selector's pattern matches (<c>res</c>): the
    /// branch adds <c>hp * m_L^-alpha * branch(x)</c> to the residual stream, so that, for example, the attention and the MLP
    /// branches carry separate tuned factors. A forward multiplier, not a tensor's value: selected by branch name only.
    /// </summary>
    ResidualMultiplier,
}
