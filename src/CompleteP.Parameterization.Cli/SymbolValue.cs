namespace CompleteP.Cli;

/// <summary>A symbol of a formula with its value and what it is (<c>m_N = 8</c>: width multiplier N / N_base = 2048 / 256).</summary>
/// <param name="Symbol">The symbol as the formula writes it.</param>
/// <param name="Value">Its value.</param>
/// <param name="Meaning">What it is and where its value comes from (an option, or a ratio of options).</param>
internal sealed record SymbolValue(string Symbol, double Value, string Meaning);
