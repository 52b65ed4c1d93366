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
    /// <summary>The parameterization's name.</summary>
    public string Parameterization { get; internal init; } = Parameterization;

    /// <summary>The model width.</summary>
    public int Width { get; internal init; } = Width;

    /// <summary>The model depth.</summary>
    public int Depth { get; internal init; } = Depth;

    /// <summary>The seed of the run.</summary>
    public int Seed { get; internal init; } = Seed;

    /// <summary>The residual branch's name (e.g. <c>transformer.h.3.mlp</c>).</summary>
    public string Branch { get; internal init; } = Branch;

    /// <summary>The index of the block that holds it, from 0.</summary>
    public int BlockIndex { get; internal init; } = BlockIndex;

    /// <summary>The norm of the change's nonlinear part, <c>|h(theta + dtheta) - h(theta) - J dtheta|</c>.</summary>
    public double NonlinearChange { get; internal init; } = NonlinearChange;

    /// <summary>The norm of the linearized change, <c>|J dtheta|</c>.</summary>
    public double LinearChange { get; internal init; } = LinearChange;

    /// <summary>The CSV header.</summary>
    internal const string CsvHeader = "parameterization,width,depth,seed,branch,blockIndex,nonlinearChange,linearChange,relativeNonlinearity";

    /// <summary>The relative distance from the linearization: <see cref="NonlinearChange"/> / <see cref="LinearChange"/>.</summary>
    public double RelativeNonlinearity => NonlinearChange / LinearChange;
}
