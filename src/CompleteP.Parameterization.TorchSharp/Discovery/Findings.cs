namespace CompleteP.Discovery;

/// <summary>
/// What the discovery steps found wrong (problems: each one line with the declaration that fixes it) and what
/// they decided or noticed (diagnostics, which end up on the plan). Nothing found is dropped on the floor.
/// </summary>
internal sealed class Findings
{
    private readonly List<string> _problems = [];
    private readonly List<PlanDiagnostic> _diagnostics = [];
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    /// <summary>The problems so far.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The diagnostics so far.</summary>
    public IReadOnlyList<PlanDiagnostic> Diagnostics => _diagnostics;

    /// <summary>Records a problem: something Apply must refuse, with the fix.</summary>
    public void Problem(string message) => _problems.Add(message);

    /// <summary>Records a problem about a whole module, so that later steps do not report its tensors again.</summary>
    public void Problem(string moduleName, string message)
    {
        _reported.Add(moduleName);
        Problem(message);
    }

    /// <summary>Marks a module whose problem another message covers, so that later steps do not report its tensors.</summary>
    public void MarkReported(string moduleName) => _reported.Add(moduleName);

    /// <summary>Whether a problem about this module was recorded already.</summary>
    public bool Reported(string moduleName) => _reported.Contains(moduleName);

    /// <summary>Records a decision worth knowing.</summary>
    public void Info(string subject, string message) => _diagnostics.Add(new PlanDiagnostic(DiagnosticSeverity.Info, subject, message));

    /// <summary>Records something that may mean the model does not train as intended.</summary>
    public void Warn(string subject, string message) => _diagnostics.Add(new PlanDiagnostic(DiagnosticSeverity.Warning, subject, message));

    /// <summary>Throws the problems found so far, if any.</summary>
    /// <exception cref="ParameterClassificationException">There are problems.</exception>
    public void ThrowIfProblems()
    {
        if (_problems.Count > 0)
        {
            throw new ParameterClassificationException(_problems.ToList());
        }
    }
}
