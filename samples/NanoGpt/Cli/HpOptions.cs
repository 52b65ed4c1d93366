using System.CommandLine;
using CompleteP;
using CompleteP.Cli;
using TorchSharp;

namespace NanoGpt.Cli;

/// <summary>
/// <c>--hp</c> and <c>--hp-file</c> of <c>train</c>, <c>plan</c>, <c>sweep</c> and <c>coord-check</c>: per-module base hyperparameters, read as
/// the <c>completep</c> tool reads them (<see cref="ModuleHyperparameterOptions"/>), and checked against the model before a run starts;
/// and the tunable forward multipliers <c>--alpha-in</c>, <c>--alpha-out</c> and <c>--alpha-attn</c>.
/// </summary>
internal sealed class HpOptions
{
    public Option<string[]> Hp { get; } = new("--hp") { Description = ModuleHyperparameterOptions.HpDescription + " (nanoGPT's names: transformer.h.*.mlp.*, transformer.h.*.attn.*, transformer.wte.weight, ...)", Arity = ArgumentArity.ZeroOrMore };

    public Option<string?> HpFile { get; } = new("--hp-file") { Description = ModuleHyperparameterOptions.HpFileDescription };

    public Option<double> AlphaIn { get; } = OptionFactory.Double("--alpha-in", "the embedding output multiplier alpha_in, tuned at the base shape (transfers unchanged)", 1.0, 0, minExclusive: true);

    public Option<double> AlphaOut { get; } = OptionFactory.Double("--alpha-out", "the logit multiplier alpha_out, tuned at the base shape (muP and CompleteP multiply it by m_N^-1)", 1.0, 0, minExclusive: true);

    public Option<double> AlphaAttn { get; } = OptionFactory.Double("--alpha-attn", "the attention-logit multiplier alpha_attn, tuned at the base shape", 1.0, 0, minExclusive: true);

    public IEnumerable<Option> All => [Hp, HpFile, AlphaIn, AlphaOut, AlphaAttn];

    /// <summary>The forward multipliers as rule options; null when all three are 1 (Table 1's defaults).</summary>
    public RuleOptions? ReadMultipliers(ParseResult result)
    {
        var (input, output, attention) = (result.GetValue(AlphaIn), result.GetValue(AlphaOut), result.GetValue(AlphaAttn));
        return input == 1 && output == 1 && attention == 1 ? null
            : new RuleOptions { InputMultiplier = input, OutputMultiplier = output, AttentionMultiplier = attention };
    }

    /// <summary>
    /// The text of a sweep CSV's <c>hp</c> column: the per-module entries, then the forward multipliers that are not 1
    /// (<c>embedding.lr=4;alpha_out=2</c>), joined by <c>;</c>; empty for none.
    /// </summary>
    public static string Describe(IReadOnlyList<ModuleHyperparameter>? modules, RuleOptions? multipliers)
    {
        var parts = new List<string>();
        if (modules is { Count: > 0 })
        {
            parts.Add(ModuleHyperparameterOptions.Join(modules));
        }

        if (multipliers is not null)
        {
            foreach (var (name, value) in new[] { ("alpha_in", multipliers.InputMultiplier), ("alpha_out", multipliers.OutputMultiplier), ("alpha_attn", multipliers.AttentionMultiplier) })
            {
                if (value != 1)
                {
                    parts.Add($"{name}={value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
                }
            }
        }

        return string.Join(';', parts);
    }

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
