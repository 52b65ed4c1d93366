using System.CommandLine;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;

namespace NanoGpt.Cli;

/// <summary>
/// <c>plan</c>: builds the model and <c>AdamW(model.parameters(), lr)</c>, applies the
/// parameterization, and prints the plan as a table, or (<c>--format json</c>) the multipliers and,
/// per parameter, the init std measured on the tensor and the LR, weight decay and epsilon read
/// back from the optimizer's groups. With <c>--base-tokens-per-step</c> and <c>--base-tokens</c> the plan also transfers
/// from the base run's batch and length to this run's (<c>--batch-size</c> x <c>--block-size</c> tokens per step for
/// <c>--steps</c> steps), as <c>train</c> and <c>sweep</c> do.
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
        var transfer = new TransferOptions();
        var steps = OptionFactory.Int("--steps", "this run's optimizer steps (for the length rule)", 1000);
        var batchSize = OptionFactory.Int("--batch-size", "this run's sequences per step (for the batch rule)", 16);
        var beta1 = OptionFactory.Double("--beta1", "AdamW's base first-moment decay", 0.9, 0, max: 0.999999);
        var beta2 = OptionFactory.Double("--beta2", "AdamW's base second-moment decay", 0.99, 0, max: 0.999999);
        var command = new Command("plan", "Apply the parameterization to a nanoGPT and print what it did: the plan table, or JSON measured on the model and optimizer.");
        foreach (var option in gpt.All.Concat(transfer.All).Concat([vocab, format, steps, batchSize, beta1, beta2]))
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            var setup = gpt.Read(result, result.GetValue(vocab)) with { Beta1 = result.GetValue(beta1), Beta2 = result.GetValue(beta2) };
            (setup, _) = transfer.Apply(result, setup, new TrainSettings(result.GetValue(steps), result.GetValue(batchSize), setup.BlockSize, LogInterval: int.MaxValue, EvalBatches: 1, setup.Seed));
            var (model, optimizer, plan) = ParameterizedGpt.Create(setup, torch.CPU,
                parameters => torch.optim.AdamW(parameters, lr: setup.LearningRate, beta1: setup.Beta1, beta2: setup.Beta2));
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
