namespace CompleteP.Plotting;

/// <summary>One run of a learning-rate sweep: its final loss at one base learning rate.</summary>
/// <param name="Parameterization">The parameterization's name.</param>
/// <param name="Width">The model width.</param>
/// <param name="Depth">The model depth.</param>
/// <param name="LearningRate">The base learning rate.</param>
/// <param name="Loss">The final loss (validation, typically).</param>
public sealed record LearningRatePoint(string Parameterization, int Width, int Depth, double LearningRate, double Loss)
{
    /// <summary>
    /// The curve this run belongs to when curves are not model sizes (for example "batch 32" in a batch-size sweep);
    /// null: one curve per width and depth. Curves are drawn, and keep their colours, in the order they first appear.
    /// </summary>
    public string? Series { get; init; }
}
