
namespace CompleteP.CoordinateChecks;


/// <summary>
/// What a coordinate check runs: which parameterizations, the base shape, the widths of the width
/// sweep (at <see cref="SweepDepth"/>) and the depths of the depth sweep (at <see cref="SweepWidth"/>),
/// the steps, the seeds and the optimizer settings.
/// </summary>
public sealed record CoordinateCheckSettings
{
    /// <summary>The parameterizations to compare. Default: SP, muP, CompleteP, depth-muP.</summary>
    public IReadOnlyList<Parameterization> Parameterizations { get; init; } =
        [Parameterization.Standard, Parameterization.MuP, Parameterization.CompleteP, Parameterization.DepthMuP];

    /// <summary>The base shape the hyperparameters are tuned at. Default: width 64, depth 2.</summary>
    public ModelShape BaseShape { get; init; } = new(64, 2);

    /// <summary>The attention head dimension <c>d_head</c>; it must divide every width. Default 32.</summary>
    public int HeadDim { get; init; } = 32;

    /// <summary>The widths of the width sweep; empty for none.</summary>
    public IReadOnlyList<int> Widths { get; init; } = [];

    /// <summary>The depths of the depth sweep; empty for none.</summary>
    public IReadOnlyList<int> Depths { get; init; } = [];

    /// <summary>The depth at which the width sweep runs; null is the base depth.</summary>
    public int? SweepDepth { get; init; }

    /// <summary>The width at which the depth sweep runs; null is the base width.</summary>
    public int? SweepWidth { get; init; }

    /// <summary>Steps to record: step 1 is the forward pass before the first update. Default 10.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>
    /// The seeds; measurements are averaged over them. Default one seed, 0. Each run draws from a generator of its own,
    /// seeded by its seed, never from torch's process-wide one: the plan's init of every tensor, frozen ones included (Apply itself
    /// leaves frozen tensors as they are). So a run's measurements depend on its
    /// seed alone, also when other threads or test classes draw random numbers meanwhile, provided the batch function draws
    /// from a generator made from its seed argument (<c>new Generator((ulong)seed)</c>). Dropout modules are turned off for the
    /// check (eval mode); dropout written into a forward is no module: build the model with dropout 0 for the check.
    /// </summary>
    public IReadOnlyList<int> Seeds { get; init; } = [0];

    /// <summary>Base learning rate, init std, weight decay and epsilon. Default: 1e-3, 0.02, 0, 1e-8.</summary>
    public BaseHyperparameters Hyperparameters { get; init; } = new(1e-3, 0.02, 0.0, 1e-8);

    /// <summary>The rules' options (epsilon scope, decay convention, multipliers).</summary>
    public RuleOptions RuleOptions { get; init; } = RuleOptions.Default;

    /// <summary>AdamW's first-moment coefficient.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW's second-moment coefficient.</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>Gradient-norm clipping threshold; 0 turns it off.</summary>
    public double GradientClip { get; init; }

    /// <summary>
    /// Which modules to record, as glob patterns on module names (<c>*</c>, <c>?</c>); empty records
    /// the modules the discovery knows: inputs, every block, every residual branch, the final norm and the readout.
    /// </summary>
    public IReadOnlyList<string> ModulePatterns { get; init; } = [];

    /// <summary>Declarations for models whose structure inference cannot see.</summary>
    public ModelDeclarations Declarations { get; init; } = ModelDeclarations.None;

    /// <summary>
    /// Whether the check also runs, at the same settings, the control that must fail each sweep: SP for a width sweep,
    /// muP for a depth sweep (when <see cref="Parameterizations"/> lacks them). When the control passes too, the report
    /// calls the other verdicts of that sweep inconclusive: such settings cannot tell right from wrong. Default true.
    /// </summary>
    public bool RunControls { get; init; } = true;

    /// <summary>
    /// The parameterizations the check runs: <see cref="Parameterizations"/>, then, with <see cref="RunControls"/>, SP
    /// when there is a width sweep and muP when there is a depth sweep, if not among them already.
    /// </summary>
    public IReadOnlyList<Parameterization> ParameterizationsToRun()
    {
        var run = Parameterizations.ToList();
        if (RunControls)
        {
            foreach (var (axis, count) in new[] { (SweepAxis.Width, Widths.Count), (SweepAxis.Depth, Depths.Count) })
            {
                var control = CoordinateCheckReport.ControlFor(axis);
                if (count > 1 && !run.Contains(control))
                {
                    run.Add(control);
                }
            }
        }

        return run;
    }

    /// <summary>The (width, depth) of every run: the width sweep, then the depth sweep, without repeats.</summary>
    public IReadOnlyList<(int Width, int Depth)> Shapes()
    {
        int sweepDepth = SweepDepth ?? BaseShape.Depth;
        int sweepWidth = SweepWidth ?? BaseShape.Width;
        return Widths.Select(w => (w, sweepDepth)).Concat(Depths.Select(d => (sweepWidth, d))).Distinct().ToList();
    }

    /// <summary>Checks the settings; throws naming the first bad one.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Parameterizations.Count == 0)
        {
            throw new ArgumentException("Parameterizations must name at least one parameterization.", nameof(Parameterizations));
        }

        if (Widths.Count == 0 && Depths.Count == 0)
        {
            throw new ArgumentException("Widths and Depths are both empty: give the widths of a width sweep, the depths of a depth sweep, or both.", nameof(Widths));
        }

        foreach (var (value, name) in Widths.Select(w => (w, nameof(Widths))).Concat(Depths.Select(d => (d, nameof(Depths)))))
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1, but one is {value}.");
            }
        }

        if (Steps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), Steps, $"Steps must be at least 1 (valid range: 1 and above), but was {Steps}.");
        }

        if (Seeds.Count == 0)
        {
            throw new ArgumentException("Seeds must hold at least one seed.", nameof(Seeds));
        }

        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Beta1), $"Beta1 and Beta2 must lie in [0, 1), but were {Beta1} and {Beta2}.");
        }

        if (!(GradientClip >= 0) || double.IsInfinity(GradientClip))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientClip), GradientClip, "GradientClip must be finite and at least 0 (0 turns clipping off).");
        }
    }

    /// <summary>Value equality, the lists compared element by element.</summary>
    /// <param name="other">The other settings.</param>
    /// <returns>True when every setting is equal.</returns>
    public bool Equals(CoordinateCheckSettings? other) =>
        other is not null && Parameterizations.SequenceEqual(other.Parameterizations) && BaseShape == other.BaseShape && HeadDim == other.HeadDim
        && Widths.SequenceEqual(other.Widths) && Depths.SequenceEqual(other.Depths) && SweepDepth == other.SweepDepth && SweepWidth == other.SweepWidth
        && Steps == other.Steps && Seeds.SequenceEqual(other.Seeds) && Hyperparameters == other.Hyperparameters && RuleOptions == other.RuleOptions
        && Beta1.Equals(other.Beta1) && Beta2.Equals(other.Beta2) && GradientClip.Equals(other.GradientClip) && RunControls == other.RunControls
        && ModulePatterns.SequenceEqual(other.ModulePatterns) && Declarations == other.Declarations;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BaseShape, HeadDim, Widths.Count, Depths.Count, Steps, Seeds.Count, Hyperparameters, Declarations);
}
