using System.CommandLine;
using CompleteP.Cli;

namespace NanoGpt.Cli;

/// <summary>
/// The sample's command line: <c>train</c> (the demo), <c>plan</c> (what the parameterization
/// did to the model), <c>sweep</c> (a learning-rate sweep to CSV), <c>plot-sweep</c> (that CSV as a PNG)
/// <c>coord-check</c> (coordinate checks and the laziness check, with plots) and <c>bench-step</c> (the training step's
/// time per shape, for the GPU benchmark against PyTorch). Exit codes: 0 success, 1 failure while running, 2 bad input (one line on
/// standard error naming the option, the value and the valid range).
/// </summary>
public static class NanoGptCli
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = CommandLineRunner.BadInput;

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
        root.Subcommands.Add(BenchStepCommand.Create(output));

        try
        {
            return CommandLineRunner.Run<UsageException>(root, args, output, error, "nanogpt", helpHint: false);
        }
        catch (Exception e) when (e is CompleteP.NonFiniteValueException or TrainingDivergedException)
        {
            // Training went to NaN or infinity (train, coord-check): stop with the step and the module, not a stack trace.
            error.WriteLine($"nanogpt: stopped: {string.Join(" ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
            return Failed;
        }
    }
}
