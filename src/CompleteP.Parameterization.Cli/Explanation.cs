namespace CompleteP.Cli;

/// <summary>One number of a setup, explained: its formula, the numbers put in, the value, and where the rule comes from.</summary>
/// <param name="Subject">The tensor role or model-level multiplier, as written on the command line (<c>hidden-weight</c>, <c>residual-multiplier</c>).</param>
/// <param name="Quantity">The quantity (<c>learning-rate</c>, <c>init</c>, ...); for a multiplier, the subject again.</param>
/// <param name="Value">The value with its formula and the formula with the numbers put in.</param>
/// <param name="Symbols">Each symbol of the formula with its value and what it is.</param>
/// <param name="Source">The paper's table and row (or the other source) of the rule.</param>
/// <param name="RulesSections">The sections of docs/rules.md that state the rule.</param>
internal sealed record Explanation(
    string Subject, string Quantity, ScaledValue Value, IReadOnlyList<SymbolValue> Symbols, string Source, IReadOnlyList<string> RulesSections);
