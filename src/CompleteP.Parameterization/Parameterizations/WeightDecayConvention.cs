namespace CompleteP;

/// <summary>How the weight-decay values of a plan are meant to be read by the optimizer.</summary>
public enum WeightDecayConvention
{
    /// <summary>
    /// PyTorch's AdamW (the default): the per-step decay is <c>lr * weight_decay</c>. Hidden weights
    /// get <c>lambda * m_N</c>, so that with their LR <c>eta * m_N^-1 * m_L^(alpha-1)</c> the
    /// per-step decay <c>eta * lambda * m_L^(alpha-1)</c> does not depend on width.
    /// </summary>
    Coupled,

    /// <summary>
    /// Independent of the learning rate (Wortsman et al. 2023; Loshchilov and Hutter's original
    /// form): the value is the per-step decay itself. Hidden weights get <c>lambda * m_L^(alpha-1)</c>,
    /// the same per-step decay as the coupled rule. An adapter for a coupled optimizer stores
    /// <c>value / lr</c>.
    /// </summary>
    Independent,
}
