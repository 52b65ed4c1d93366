namespace NanoGpt;

/// <summary>Training stopped: the loss of a step was NaN or infinite (the learning rate is too high for this model, or the data is bad).</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for the first step whose loss was not finite.</summary>
    /// <param name="step">The step (0-based).</param>
    /// <param name="loss">Its loss.</param>
    public TrainingDivergedException(int step, double loss)
        : base($"training diverged: the loss of step {step + 1} is {loss} (not finite); lower the learning rate, or clip the gradients (the last finite steps are in the curve so far).")
    {
        Step = step;
        Loss = loss;
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

    /// <summary>That step's loss (NaN or infinite).</summary>
    public double Loss { get; }
}
