using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// The safe way to schedule a parameterized optimizer: each group's learning rate is its own base
/// learning rate (as Apply set it) times one schedule factor, so the per-group ratios that the
/// parameterization chose survive any schedule.
/// </summary>
/// <remarks>
/// TorchSharp's CosineAnnealingLR (with <c>eta_min</c> 0), LambdaLR, StepLR and SequentialLR keep
/// the ratios too. Two pitfalls: CosineAnnealingLR with <c>eta_min</c> &gt; 0 pulls every group to
/// the same floor (the hidden weights' small LR then rises to the embeddings' floor), and OneCycleLR
/// overwrites every group with one learning rate (and, in TorchSharp 0.107.0, keeps using the warm-up
/// formula for groups after the first). Use this helper for warm-up + cosine or one-cycle shapes.
/// </remarks>
/// <example>
/// <code>
/// var lrs = new GroupLearningRates(optimizer);          // after Parameterize.Apply
/// for (int step = 0; step &lt; steps; step++)
/// {
///     lrs.SetFactor(GroupLearningRates.WarmupCosine(step, warmupSteps: 100, totalSteps: steps, finalFactor: 0.1));
///     ...
/// }
/// </code>
/// </example>
public sealed class GroupLearningRates
{
    private readonly List<(ParamGroup Group, double BaseLearningRate)> _groups;

    /// <summary>Captures each group's current learning rate as its base.</summary>
    /// <param name="optimizer">The optimizer, after <see cref="Parameterize.Apply"/>.</param>
    public GroupLearningRates(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _groups = optimizer.ParamGroups.OfType<ParamGroup>().Select(g => (g, g.LearningRate)).ToList();
    }

    /// <summary>Each group's base learning rate, in group order.</summary>
    public IReadOnlyList<double> BaseLearningRates => _groups.Select(g => g.BaseLearningRate).ToList();

    /// <summary>Sets every group's learning rate to its base times <paramref name="factor"/>.</summary>
    /// <param name="factor">The schedule factor; finite and at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">The factor is negative or not finite.</exception>
    public void SetFactor(double factor)
    {
        if (!double.IsFinite(factor) || factor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"factor must be finite and at least 0 (valid range: [0, +inf)), but was {factor}.");
        }

        foreach (var (group, baseLr) in _groups)
        {
            group.LearningRate = baseLr * factor;
        }
    }

    /// <summary>Linear warm-up from 0 to 1, then a cosine decay to <paramref name="finalFactor"/>.</summary>
    /// <param name="step">The step, from 0.</param>
    /// <param name="warmupSteps">Steps of linear warm-up; at least 0.</param>
    /// <param name="totalSteps">Total steps; greater than <paramref name="warmupSteps"/>.</param>
    /// <param name="finalFactor">The factor at the last step, in [0, 1].</param>
    /// <returns>The factor for <paramref name="step"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double WarmupCosine(int step, int warmupSteps, int totalSteps, double finalFactor = 0.0)
    {
        if (warmupSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be at least 0.");
        }

        if (totalSteps <= warmupSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"totalSteps must be greater than warmupSteps ({warmupSteps}).");
        }

        if (!(finalFactor >= 0 && finalFactor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(finalFactor), finalFactor, "finalFactor must lie in [0, 1].");
        }

        if (step < warmupSteps)
        {
            return (step + 1.0) / warmupSteps;
        }

        double progress = Math.Min(1.0, (step - warmupSteps) / (double)Math.Max(1, totalSteps - warmupSteps - 1));
        return finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
