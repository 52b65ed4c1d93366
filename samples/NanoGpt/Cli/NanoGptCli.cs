using System.CommandLine;

namespace NanoGpt.Cli;

/// <summary>
/// The sample's command line: <c>train</c> (the demo) and <c>plan</c> (what the parameterization
/// did to the model). Exit codes: 0 success, 1 failure while running, 2 bad input (one line on
/// standard error naming the option, the value and the valid range).
/// </summary>
public static class NanoGptCli
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = 2;

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

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            error.WriteLine($"nanogpt: {OneLine(parsed.Errors[0].Message)}");
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
    }

    private static string OneLine(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
