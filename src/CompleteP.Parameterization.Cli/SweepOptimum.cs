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
/// <param name="Curve">Every learning rate tried, ascending, with its mean loss.</param>
/// <param name="Best">The learning rate with the lowest mean loss.</param>
/// <param name="AtGridEdge">Whether the best is the lowest or highest learning rate tried (the true optimum may lie beyond).</param>
/// <param name="Drift">The best learning rate over the best at the base shape; null when the sweep has no run at the base shape.</param>
/// <param name="LossAtBaseOptimum">This shape's mean loss at the base shape's best learning rate; null when that rate was not tried here.</param>
internal sealed record SweepOptimum(
    string Parameterization, int Width, int Depth, int BaseWidth, int BaseDepth, IReadOnlyList<SweepPoint> Curve, SweepPoint Best,
    bool AtGridEdge, double? Drift, double? LossAtBaseOptimum)
{
    /// <summary>Whether this is the base shape itself.</summary>
    public bool IsBase => Width == BaseWidth && Depth == BaseDepth;
}
