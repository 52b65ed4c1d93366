namespace CompleteP.CoordinateChecks;

/// <summary>
/// One measurement of a coordinate check: the size of one module's output at one step of one
/// training run. The CSV form has exactly these columns, in this order.
/// </summary>
/// <param name="Parameterization">The parameterization's name (<c>sp</c>, <c>mup</c>, <c>completep</c>, <c>depth-mup</c>, <c>alpha=A</c>).</param>
/// <param name="Width">The model width.</param>
/// <param name="Depth">The model depth (blocks).</param>
/// <param name="Seed">The seed of the run.</param>
/// <param name="Step">1 is the forward pass before the first update; step t follows t-1 updates.</param>
/// <param name="Module">The module's name in the model (the last block's output is <c>transformer.h.{depth-1}</c>; the residual stream at the final norm is <c>transformer.ln_f.input</c>).</param>
/// <param name="MeanAbs">Mean absolute value of the output's coordinates (microsoft/mup's l1).</param>
/// <param name="Rms">Root mean square of the output's coordinates.</param>
/// <param name="DeltaRms">Root mean square of the output's change since step 1 (the training forward pass of each step; with a repeated batch, the change is the parameters' alone).</param>
/// <param name="Kind">What the module is.</param>
/// <param name="BlockIndex">The index of the block that holds the module, or -1 outside the blocks.</param>
public sealed record CoordinateMeasurement(
    string Parameterization,
    int Width,
    int Depth,
    int Seed,
    int Step,
    string Module,
    double MeanAbs,
    double Rms,
    double DeltaRms,
    ModuleKind Kind = ModuleKind.Other,
    int BlockIndex = -1)
{
    /// <summary>The parameterization's name (<c>sp</c>, <c>mup</c>, <c>completep</c>, <c>depth-mup</c>, <c>alpha=A</c>).</summary>
    public string Parameterization { get; internal init; } = Parameterization;

    /// <summary>The model width.</summary>
    public int Width { get; internal init; } = Width;

    /// <summary>The model depth (blocks).</summary>
    public int Depth { get; internal init; } = Depth;

    /// <summary>The seed of the run.</summary>
    public int Seed { get; internal init; } = Seed;

    /// <summary>1 is the forward pass before the first update; step t follows t-1 updates.</summary>
    public int Step { get; internal init; } = Step;

    /// <summary>The module's name in the model (the last block's output is <c>transformer.h.{depth-1}</c>; the residual stream at the final norm is <c>transformer.ln_f.input</c>).</summary>
    public string Module { get; internal init; } = Module;

    /// <summary>Mean absolute value of the output's coordinates (microsoft/mup's l1).</summary>
    public double MeanAbs { get; internal init; } = MeanAbs;

    /// <summary>Root mean square of the output's coordinates.</summary>
    public double Rms { get; internal init; } = Rms;

    /// <summary>Root mean square of the output's change since step 1 (the training forward pass of each step; with a repeated batch, the change is the parameters' alone).</summary>
    public double DeltaRms { get; internal init; } = DeltaRms;

    /// <summary>What the module is.</summary>
    public ModuleKind Kind { get; internal init; } = Kind;

    /// <summary>The index of the block that holds the module, or -1 outside the blocks.</summary>
    public int BlockIndex { get; internal init; } = BlockIndex;

    /// <summary>The CSV header.</summary>
    internal const string CsvHeader = "parameterization,width,depth,seed,step,module,meanAbs,rms,deltaRms,kind,blockIndex";

    /// <summary>The value of a metric.</summary>
    /// <param name="metric">Which metric.</param>
    /// <returns>Its value.</returns>
    public double Value(CoordinateMetric metric) => metric switch
    {
        CoordinateMetric.MeanAbs => MeanAbs,
        CoordinateMetric.Rms => Rms,
        CoordinateMetric.DeltaRms => DeltaRms,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be MeanAbs, Rms or DeltaRms."),
    };
}
