using System.CommandLine;
using System.CommandLine.Parsing;

namespace CompleteP.Cli;

/// <summary>
/// Parses and runs a command line the way both command lines of the repository do, the <c>completep</c> tool and the
/// nanoGPT sample (which compiles this file too): bad input, whether a parse error or the bad-input exception
/// thrown while running, is one line on standard error that names the option, and exit code <see cref="BadInput"/>.
/// </summary>
internal static class CommandLineRunner
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> and runs the command they name.</summary>
    /// <typeparam name="TBadInput">The exception a command throws for bad input.</typeparam>
    /// <param name="root">The commands.</param>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="output">Where results go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="program">The program's name, which starts every error line.</param>
    /// <param name="helpHint">Whether a parse error ends with where to read the command's help.</param>
    /// <returns>The command's exit code, or <see cref="BadInput"/>.</returns>
    public static int Run<TBadInput>(RootCommand root, string[] args, TextWriter output, TextWriter error, string program, bool helpHint)
        where TBadInput : Exception
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var first = parsed.Errors[0];
            string? option = OptionOf(first.SymbolResult);
            string message = OneLine(first.Message);
            string hint = helpHint ? $" (see '{program} {string.Join(' ', args.Take(1))} --help')" : string.Empty;
            error.WriteLine($"{program}: {(option is not null && !message.Contains(option, StringComparison.Ordinal) ? option + ": " : string.Empty)}{message}{hint}");
            return BadInput;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (TBadInput e)
        {
            error.WriteLine($"{program}: {OneLine(e.Message)}");
            return BadInput;
        }
    }

    /// <summary>The name of the option a parse error belongs to, if any.</summary>
    private static string? OptionOf(SymbolResult? result)
    {
        for (var r = result; r is not null; r = r.Parent)
        {
            if (r is OptionResult o)
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
