using System.Globalization;

namespace CompleteP.Cli;

/// <summary>
/// A run's training shape in a sweep: its batch size (sequences per step) and number of steps. Beside the model shape,
/// it is what the batch-size and training-length rules transfer across (docs/rules.md, "Batch size and training length").
/// </summary>
/// <param name="Batch">Sequences per step; 0 when the CSV does not say.</param>
/// <param name="Steps">Optimizer steps; 0 when the CSV does not say.</param>
internal readonly record struct SweepTraining(int Batch, int Steps)
{
    /// <summary>"batch 16, 300 steps".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"batch {Batch}, {Steps} steps");
}
