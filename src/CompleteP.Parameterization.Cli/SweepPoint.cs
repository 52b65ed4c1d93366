namespace CompleteP.Cli;

/// <summary>One learning rate of one shape in a sweep: the loss averaged over its seeds.</summary>
/// <param name="LearningRate">The base learning rate.</param>
/// <param name="Loss">The mean loss over the seeds.</param>
/// <param name="Seeds">How many runs (seeds) the mean is over.</param>
internal sealed record SweepPoint(double LearningRate, double Loss, int Seeds);
