namespace CompleteP;

/// <summary>The family a <see cref="Parameterization"/> belongs to: which multipliers its rules use.</summary>
public enum ParameterizationKind
{
    /// <summary>Standard parameterization (SP): every tensor gets the base values; nothing scales.</summary>
    Standard,

    /// <summary>
    /// Maximal update parameterization (muP, Yang et al., Tensor Programs V): the width rules of
    /// Table 1 of Dey et al. (2025), with every depth factor removed (residual multiplier 1).
    /// </summary>
    MaximalUpdate,

    /// <summary>
    /// Depth-scaled muP with depth exponent <c>alpha</c> in [0.5, 1]: residual branches scaled by
    /// <c>m_L^-alpha</c> and the matching learning-rate and epsilon rules (Dey et al. 2025, Table 1).
    /// <c>alpha = 1</c> is CompleteP, <c>alpha = 0.5</c> is depth-muP.
    /// </summary>
    DepthScaled,
}
