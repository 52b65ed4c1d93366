namespace CompleteP;

/// <summary>
/// Something Apply decided or noticed that a user should be able to read: a role that was a guess, a buffer
/// that will not train, how the attention scale is handled, how a hook was verified. Nothing is passed over
/// in silence: what is not refused is listed here.
/// </summary>
/// <param name="Severity">Information, or a warning that may mean the model is not trained as intended.</param>
/// <param name="Subject">The tensor, module or quantity it is about.</param>
/// <param name="Message">What happened and, for a warning, what to do.</param>
public sealed record PlanDiagnostic(DiagnosticSeverity Severity, string Subject, string Message)
{
    /// <summary>Information, or a warning that may mean the model is not trained as intended.</summary>
    public DiagnosticSeverity Severity { get; internal init; } = Severity;

    /// <summary>The tensor, module or quantity it is about.</summary>
    public string Subject { get; internal init; } = Subject;

    /// <summary>What happened and, for a warning, what to do.</summary>
    public string Message { get; internal init; } = Message;

    /// <inheritdoc />
    public override string ToString() => $"{Severity.ToString().ToLowerInvariant()}: {Subject}: {Message}";
}
