using System.CommandLine;

namespace CompleteP.Cli;

/// <summary>
/// The <c>completep</c> command line: <c>plan</c>, <c>explain</c> and <c>analyze-sweep</c>. Exit codes: 0 success, 1 failure while running,
/// 2 bad input (one line on standard error naming the parameter, the value and the valid range).
/// </summary>
internal static class CompletepCli
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = CommandLineRunner.BadInput;

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

        return CommandLineRunner.Run<ArgumentException>(root, args, output, error, "completep", helpHint: true);
    }
}
