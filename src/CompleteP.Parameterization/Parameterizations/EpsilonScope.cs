namespace CompleteP;

/// <summary>Which parameters get the scaled Adam epsilon <c>eps * m_N^-1 * m_L^-alpha</c>.</summary>
public enum EpsilonScope
{
    /// <summary>
    /// Only parameters inside the residual blocks (hidden norms, weights and biases); embedding,
    /// final norm and unembedding keep the base <c>eps</c>. This is Table 1 of Dey et al. (2025): the default.
    /// </summary>
    ResidualBlocks,

    /// <summary>
    /// Every parameter gets the scaled epsilon, as the authors' reference code (nanoGPT-mup,
    /// branch <c>completep</c>) scales its one global epsilon.
    /// </summary>
    Global,
}
