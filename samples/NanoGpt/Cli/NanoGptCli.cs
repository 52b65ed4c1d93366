using System.CommandLine;

namespace NanoGpt.Cli;

/// <summary>
/// The sample's command line: <c>train</c> (the demo), <c>plan</c> (what the parameterization
/// did to the model), <c>sweep</c> (a learning-rate sweep to CSV), <c>plot-sweep</c> (that CSV as a PNG)
/// and <c>coord-check</c> (coordinate checks and the laziness check, with plots). Exit codes: 0 success, 1 failure while running, 2 bad input (one line on
/// standard error naming the option, the value and the valid range).
/// </summary>
public static class NanoGptCli
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code for a failure while running (training went to NaN or infinity).</summary>
    public const int Failed = 1;

    /// <summary>Parses and runs a command line.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var root = new RootCommand("nanoGPT in TorchSharp, parameterized by CompleteP.Parameterization (sp, mup, completep, depth-mup).");
        root.Subcommands.Add(TrainCommand.Create(output));
        root.Subcommands.Add(PlanCommand.Create(output));
        root.Subcommands.Add(SweepCommand.Create(output));
        root.Subcommands.Add(PlotSweepCommand.Create(output));
        root.Subcommands.Add(CoordCheckCommand.Create(output, error));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var first = parsed.Errors[0];
            string message = OneLine(first.Message);
            string? option = OptionOf(first.SymbolResult);
            error.WriteLine($"nanogpt: {(option is not null && !message.Contains(option, StringComparison.Ordinal) ? option + ": " : string.Empty)}{message}");
            return BadInput;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"nanogpt: {OneLine(e.Message)}");
            return BadInput;
        }
        catch (CompleteP.NonFiniteValueException e)
        {
            // Training went to NaN or infinity (train, coord-check, sweep): stop with the step and the module, not a stack trace.
            error.WriteLine($"nanogpt: stopped: {OneLine(e.Message)}");
            return Failed;
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

    private static string OneLine(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
