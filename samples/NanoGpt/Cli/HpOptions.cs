using System.CommandLine;
using CompleteP;
using CompleteP.Cli;
using TorchSharp;

namespace NanoGpt.Cli;

/// <summary>
/// <c>--hp</c> and <c>--hp-file</c> of <c>train</c>, <c>plan</c> and <c>sweep</c>: per-module base hyperparameters, read as the
/// <c>completep</c> tool reads them (<see cref="ModuleHyperparameterOptions"/>), and checked against the model before a run starts.
/// </summary>
internal sealed class HpOptions
{
    public Option<string[]> Hp { get; } = new("--hp") { Description = ModuleHyperparameterOptions.HpDescription + " (nanoGPT's names: transformer.h.*.mlp.*, transformer.h.*.attn.*, transformer.wte.weight, ...)", Arity = ArgumentArity.ZeroOrMore };

    public Option<string?> HpFile { get; } = new("--hp-file") { Description = ModuleHyperparameterOptions.HpFileDescription };

    public IEnumerable<Option> All => [Hp, HpFile];

    /// <summary>The entries given; empty when neither option is.</summary>
    /// <exception cref="UsageException">An entry or the file is bad: the message names the option and the valid forms.</exception>
    public IReadOnlyList<ModuleHyperparameter> Read(ParseResult result)
    {
        try
        {
            return ModuleHyperparameterOptions.Read(result.GetValue(Hp), result.GetValue(HpFile));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message, e);
        }
    }

    /// <summary>
    /// Refuses entries that select no tensor of the model <paramref name="setup"/> describes, before any run: Apply on a model of the same
    /// depth, biases and tying at the narrowest width (one head; the names and roles do not depend on the width) on the CPU.
    /// </summary>
    /// <exception cref="UsageException">An entry selects no parameter: the message names <c>--hp</c> and the entry.</exception>
    public static void Check(GptSetup setup)
    {
        if (setup.Modules is not { Count: > 0 })
        {
            return;
        }

        try
        {
            var (model, optimizer, _) = ParameterizedGpt.Create(setup with { Width = setup.HeadDim, VocabSize = Math.Min(setup.VocabSize, 8), BlockSize = Math.Min(setup.BlockSize, 8) }, torch.CPU);
            model.Dispose();
            optimizer.Dispose();
        }
        catch (ArgumentException e) when (e.Message.StartsWith("options.Hyperparameters.Modules: ", StringComparison.Ordinal))
        {
            string message = e.Message["options.Hyperparameters.Modules: ".Length..];
            int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw new UsageException($"--hp: {(suffix >= 0 ? message[..suffix] : message)}", e);
        }
    }
}
