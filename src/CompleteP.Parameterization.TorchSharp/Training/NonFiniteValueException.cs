namespace CompleteP;

/// <summary>
/// Thrown when training produces NaN or an infinity (in the loss or in a module's output): says at which step, and in the
/// output of which module it first appeared in the forward pass (or which parameter holds it), so that a run stops where it
/// went wrong instead of training on NaN.
/// </summary>
public sealed class NonFiniteValueException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and where.</param>
    /// <param name="step">The training step (1 is the first) whose forward pass produced the value.</param>
    /// <param name="quantity">What held it first: <c>loss</c> or <c>activation</c>.</param>
    /// <param name="moduleName">The module whose output first held it (in the order the forward pass ran them), or the parameter that holds it; null when neither could be found.</param>
    internal NonFiniteValueException(string message, int step, string quantity, string? moduleName)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        Step = step;
        Quantity = quantity;
        ModuleName = moduleName;
    }

    /// <summary>The training step (1 is the first) whose forward pass produced the value.</summary>
    public int Step { get; }

    /// <summary>What was found non-finite: <c>loss</c> or <c>activation</c>.</summary>
    public string Quantity { get; }

    /// <summary>The module whose output first held NaN or an infinity, or the parameter that holds one; null when neither was found.</summary>
    public string? ModuleName { get; }
}
