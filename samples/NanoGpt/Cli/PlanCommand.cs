using System.CommandLine;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;

namespace NanoGpt.Cli;

/// <summary>
/// <c>plan</c>: builds the model and <c>AdamW(model.parameters(), lr)</c>, applies the
/// parameterization, and prints the plan as a table, or (<c>--format json</c>) the multipliers and,
/// per parameter, the init std measured on the tensor and the LR, weight decay and epsilon read
/// back from the optimizer's groups.
/// </summary>
internal static class PlanCommand
{
    private static readonly GptSetup Defaults = new("completep", null, Width: 256, Depth: 16, BaseWidth: 64, BaseDepth: 2, HeadDim: 16,
        VocabSize: 65, BlockSize: 64, LearningRate: 0.01, InitStd: 0.02, WeightDecay: 0.1, Eps: 1e-8, Seed: 0);

    public static Command Create(TextWriter output)
    {
        var gpt = new GptOptions(Defaults);
        var vocab = OptionFactory.Int("--vocab", "vocabulary size", Defaults.VocabSize);
        var format = OptionFactory.OneOf("--format", "output format", "table", "table", "json");
        var command = new Command("plan", "Apply the parameterization to a nanoGPT and print what it did: the plan table, or JSON measured on the model and optimizer.");
        foreach (var option in gpt.All.Append(vocab).Append(format))
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            var setup = gpt.Read(result, result.GetValue(vocab));
            var (model, optimizer, plan) = ParameterizedGpt.Create(setup, torch.CPU,
                parameters => torch.optim.AdamW(parameters, lr: setup.LearningRate));
            using (model)
            {
                if (string.Equals(result.GetValue(format), "json", StringComparison.OrdinalIgnoreCase))
                {
                    var json = PlanReport.Build(model, (AdamW)optimizer, plan);
                    output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    output.Write(plan.ToTable());
                }
            }

            return 0;
        });
        return command;
    }
}
