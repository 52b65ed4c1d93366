namespace CompleteP.Cli;

/// <summary>
/// The best base learning rate of one parameterization at one shape, and how far it moved from the optimum at
/// the base shape (where the base learning rate was tuned): hyperparameter transfer holds where it does not move.
/// </summary>
/// <param name="Parameterization">The parameterization's name.</param>
/// <param name="Width">The model's width.</param>
/// <param name="Depth">The model's depth.</param>
/// <param name="BaseWidth">The base width.</param>
/// <param name="BaseDepth">The base depth.</param>
/// <param name="Curve">Every learning rate tried, ascending, with its mean loss over seeds.</param>
/// <param name="Best">The grid point with the lowest mean loss; null when every point diverged.</param>
/// <param name="FittedLearningRate">The vertex of the parabola in log2(learning rate) through the best grid point and its two neighbours; the best grid point's rate when it has no two finite neighbours; null when every point diverged.</param>
/// <param name="AtGridEdge">Whether the best is the lowest or highest learning rate tried (the true optimum may lie beyond).</param>
/// <param name="Drift">log2 of the fitted best learning rate over the base shape's, in octaves; null without a base shape.</param>
/// <param name="LossAtBaseOptimum">This shape's mean loss at the base shape's best grid learning rate; null when that rate was not tried here.</param>
/// <param name="Regret">That loss minus the best mean loss here (infinite when the base's rate diverges here); null without it.</param>
/// <param name="RegretStandardError">The standard error of the regret, from the per-seed differences (paired by seed); null with fewer than 2 common seeds.</param>
/// <param name="Verdict">Whether the base shape's learning rate transfers here; null at the base shape itself.</param>
/// <param name="Reason">Why the verdict is what it is.</param>
internal sealed record SweepOptimum(
    string Parameterization, int Width, int Depth, int BaseWidth, int BaseDepth, IReadOnlyList<SweepPoint> Curve, SweepPoint? Best,
    double? FittedLearningRate, bool AtGridEdge, double? Drift, double? LossAtBaseOptimum, double? Regret, double? RegretStandardError,
    TransferVerdict? Verdict, string Reason)
{
    /// <summary>The per-module base hyperparameters of these runs (the CSV's <c>hp</c> column); empty for none.</summary>
    public string Hp { get; init; } = string.Empty;

    /// <summary>The shape's training shape (batch and steps; zeros when the CSV does not say).</summary>
    public SweepTraining Training { get; init; }

    /// <summary>The base run's training shape, where the base learning rate was tuned.</summary>
    public SweepTraining BaseTraining { get; init; }

    /// <summary>Whether the batch and length rules scaled this shape's hyperparameters from the base run (its rows declare it); false: the base hyperparameters, unscaled.</summary>
    public bool Rule { get; init; }

    /// <summary>
    /// Whether this is the shape the others are compared with: the base shape itself, or, in a sweep across batch
    /// sizes or lengths that has no run at the base model shape, this model at the base run's batch and length.
    /// </summary>
    public bool IsBase { get; init; }
}
