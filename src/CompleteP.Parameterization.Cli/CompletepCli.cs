using System.CommandLine;

namespace CompleteP.Cli;

/// <summary>
/// The <c>completep</c> command line: <c>plan</c>, <c>explain</c> and <c>analyze-sweep</c>. Exit codes: 0 success, 1 failure while running,
/// 2 bad input (one line on standard error naming the parameter, the value and the valid range).
/// </summary>
internal static class CompletepCli
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="output">Where results go.</param>
    /// <param name="error">Where errors go.</param>
    /// <returns>The exit code.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var root = new RootCommand("completep: CompleteP / muP / SP parameterization rules for transformers whose hyperparameters transfer across width and depth.");
        root.Subcommands.Add(PlanCommand.Create(output));
        root.Subcommands.Add(ExplainCommand.Create(output));
        root.Subcommands.Add(AnalyzeSweepCommand.Create(output));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var first = parsed.Errors[0];
            string? option = OptionOf(first.SymbolResult);
            string message = OneLine(first.Message);
            error.WriteLine($"completep: {(option is not null && !message.Contains(option, StringComparison.Ordinal) ? option + ": " : string.Empty)}{message} (see 'completep {string.Join(' ', args.Take(1))} --help')");
            return BadInput;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"completep: {OneLine(e.Message)}");
            return BadInput;
        }
    }

    /// <summary>The name of the option a parse error belongs to, if any.</summary>
    private static string? OptionOf(System.CommandLine.Parsing.SymbolResult? result)
    {
        for (var r = result; r is not null; r = r.Parent)
        {
            if (r is System.CommandLine.Parsing.OptionResult o)
            {
                return o.Option.Name;
            }
        }

        return null;
    }

    /// <summary>A message on one line, without .NET's " (Parameter 'x')" suffix and "Actual value" line.</summary>
    private static string OneLine(string message)
    {
        var first = message.Split('\n')[0].Trim();
        int suffix = first.IndexOf(" (Parameter '", StringComparison.Ordinal);
        first = suffix >= 0 ? first[..suffix] : first;
        var rest = string.Join(", ", message.Split('\n').Skip(1).Select(l => l.Trim().Trim('\'')).Where(l => l.Length > 0 && !l.StartsWith("Actual value", StringComparison.Ordinal)));
        return rest.Length > 0 ? $"{first} {rest}" : first;
    }
}
