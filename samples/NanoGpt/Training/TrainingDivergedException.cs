namespace NanoGpt;

/// <summary>Training stopped: the loss of a step was NaN or infinite (the learning rate is too high for this model, or the data is bad).</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for the first step whose loss was not finite.</summary>
    /// <param name="step">The step (0-based).</param>
    /// <param name="loss">Its loss.</param>
    public TrainingDivergedException(int step, double loss)
        : this(step, loss, null)
    {
    }

    /// <summary>Creates the exception for the first step whose loss was not finite, with where the value first appears.</summary>
    /// <param name="step">The step (0-based).</param>
    /// <param name="loss">Its loss.</param>
    /// <param name="moduleName">The module whose output first held NaN or an infinity in that step's forward pass (or <c>parameter 'name'</c>), or null when unknown.</param>
    public TrainingDivergedException(int step, double loss, string? moduleName)
        : base($"training diverged: the loss of step {step + 1} is {loss} (not finite)" +
               (moduleName is null ? string.Empty : $"; it first appears in {(moduleName.StartsWith("parameter ", StringComparison.Ordinal) ? moduleName : $"the output of '{moduleName}'")}") +
               "; lower the learning rate, or clip the gradients (the last finite steps are in the curve so far).")
    {
        Step = step;
        Loss = loss;
        ModuleName = moduleName;
    }

    /// <summary>Creates the exception with a message (for serializers and tests).</summary>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TrainingDivergedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception without details.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>The first step (0-based) whose loss was not finite.</summary>
    public int Step { get; }

    /// <summary>The module whose output first held NaN or an infinity in that step (or <c>parameter 'name'</c>); null when not found (on a GPU the loss is read after the update).</summary>
    public string? ModuleName { get; }

    /// <summary>That step's loss (NaN or infinite).</summary>
    public double Loss { get; }
}
