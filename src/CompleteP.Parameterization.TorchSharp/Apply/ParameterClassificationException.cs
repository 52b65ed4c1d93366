namespace CompleteP;

/// <summary>
/// Thrown when the structure of a model cannot be inferred: parameters without a role, no blocks,
/// ambiguous readout. The message lists every problem with the declaration that would fix it.
/// </summary>
public sealed class ParameterClassificationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="problems">One line per problem, each with a fix.</param>
    internal ParameterClassificationException(IReadOnlyList<string> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    /// <summary>One line per problem, each with the declaration that would fix it.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return $"CompleteP could not classify the model ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}); nothing is silently treated as SP. " +
            "Declare what inference cannot see with ParameterizeOptions.Declarations:" + Environment.NewLine +
            string.Join(Environment.NewLine, problems.Select(p => "  - " + p));
    }
}
