namespace CompleteP.CoordinateChecks;

/// <summary>
/// How far one residual branch's output (an attention or MLP <c>F_l</c>) moved from its linearization
/// after one optimizer step (Dey et al. 2025, Section 4): <c>|h(theta + dtheta) - h(theta) - J dtheta| / |J dtheta|</c>,
/// with the branch's input held at its value before the step. The paper predicts it scales as
/// <c>L^(alpha-1)</c>: flat (non-lazy) only for CompleteP.
/// </summary>
/// <param name="Parameterization">The parameterization's name.</param>
/// <param name="Width">The model width.</param>
/// <param name="Depth">The model depth.</param>
/// <param name="Seed">The seed of the run.</param>
/// <param name="Branch">The residual branch's name (e.g. <c>transformer.h.3.mlp</c>).</param>
/// <param name="BlockIndex">The index of the block that holds it, from 0.</param>
/// <param name="NonlinearChange">The norm of the change's nonlinear part, <c>|h(theta + dtheta) - h(theta) - J dtheta|</c>.</param>
/// <param name="LinearChange">The norm of the linearized change, <c>|J dtheta|</c>.</param>
public sealed record LazinessMeasurement(
    string Parameterization,
    int Width,
    int Depth,
    int Seed,
    string Branch,
    int BlockIndex,
    double NonlinearChange,
    double LinearChange)
{
    /// <summary>The CSV header.</summary>
    public const string CsvHeader = "parameterization,width,depth,seed,branch,blockIndex,nonlinearChange,linearChange,relativeNonlinearity";

    /// <summary>The relative distance from the linearization: <see cref="NonlinearChange"/> / <see cref="LinearChange"/>.</summary>
    public double RelativeNonlinearity => NonlinearChange / LinearChange;
}
