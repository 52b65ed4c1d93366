namespace CompleteP;

/// <summary>How much a <see cref="PlanDiagnostic"/> matters.</summary>
public enum DiagnosticSeverity
{
    /// <summary>A decision worth knowing; nothing to do.</summary>
    Info,

    /// <summary>Something that may mean the model does not train as intended; the message says what to check.</summary>
    Warning,
}
