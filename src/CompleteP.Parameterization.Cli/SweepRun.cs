namespace CompleteP.Cli;

/// <summary>One row of a learning-rate sweep CSV: one model trained at one base learning rate and seed.</summary>
/// <param name="Parameterization">The parameterization's name (<c>mup</c>, <c>completep</c>, ...).</param>
/// <param name="Width">The model's width.</param>
/// <param name="Depth">The model's depth.</param>
/// <param name="BaseWidth">The base width the learning rate is given for.</param>
/// <param name="BaseDepth">The base depth the learning rate is given for.</param>
/// <param name="LearningRate">The base learning rate.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Loss">The final loss; a run that diverged is <see cref="double.PositiveInfinity"/>.</param>
internal sealed record SweepRun(string Parameterization, int Width, int Depth, int BaseWidth, int BaseDepth, double LearningRate, long Seed, double Loss)
{
    /// <summary>Whether the run diverged (its loss is not finite).</summary>
    public bool Diverged => !double.IsFinite(Loss);

    /// <summary>The run's batch size and steps (columns <c>batch</c> and <c>steps</c>; zeros when the CSV has neither).</summary>
    public SweepTraining Training { get; init; }

    /// <summary>
    /// The base run the batch and length rules transferred this run's hyperparameters from (columns <c>baseTokensPerStep</c>
    /// and <c>baseTokens</c>, over <c>block</c>); null when the row names none, so its base hyperparameters were used unscaled.
    /// </summary>
    public SweepTraining? DeclaredBase { get; init; }

    /// <summary>The run's per-module base hyperparameters (column <c>hp</c>, as <c>--hp</c> wrote them); empty for none.</summary>
    public string Hp { get; init; } = string.Empty;
}
