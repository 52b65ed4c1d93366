using System.CommandLine;
using System.Globalization;
using CompleteP;

namespace NanoGpt.Cli;

/// <summary>
/// <c>train</c>'s and <c>sweep</c>'s batch-size and training-length transfer (docs/rules.md, "Batch size and training length"): the base run's
/// tokens per step and tokens. This run's come from <c>--batch-size</c> x <c>--block-size</c> and <c>--steps</c>;
/// <c>--tokens-per-step</c> and <c>--tokens</c> may restate them and must agree. With them the plan scales the learning
/// rate, epsilon, weight decay and betas from the base run, and <c>--warmup-steps</c> is the base run's warm-up, carried
/// over as the same fraction of this run.
/// </summary>
internal sealed class TransferOptions
{
    public Option<long?> BaseTokensPerStep { get; } = new("--base-tokens-per-step")
    {
        Description = "tokens per step of the run the base hyperparameters were tuned at (with --base-tokens: transfer the LR, eps, decay and betas to this run's batch and length)",
    };

    public Option<long?> BaseTokens { get; } = new("--base-tokens") { Description = "total tokens of the base run" };

    public Option<long?> TokensPerStep { get; } = new("--tokens-per-step") { Description = "this run's tokens per step; must equal --batch-size x --block-size (optional)" };

    public Option<long?> Tokens { get; } = new("--tokens") { Description = "this run's total tokens; must equal --steps x --batch-size x --block-size (optional)" };

    public IEnumerable<Option> All => [BaseTokensPerStep, BaseTokens, TokensPerStep, Tokens];

    /// <summary>The setup and settings with the training shapes and the carried-over warm-up; unchanged without the base options.</summary>
    public (GptSetup Setup, TrainSettings Settings) Apply(ParseResult result, GptSetup setup, TrainSettings settings)
    {
        long? baseTokensPerStep = result.GetValue(BaseTokensPerStep), baseTokens = result.GetValue(BaseTokens);
        long tokensPerStep = (long)settings.BatchSize * settings.BlockSize, tokens = tokensPerStep * settings.Steps;
        if (baseTokensPerStep is null && baseTokens is null)
        {
            if (result.GetValue(TokensPerStep) is not null || result.GetValue(Tokens) is not null)
            {
                throw new UsageException("--tokens-per-step and --tokens describe this run for a transfer: give the base run's --base-tokens-per-step and --base-tokens too.");
            }

            return (setup, settings);
        }

        if (baseTokensPerStep is null || baseTokens is null)
        {
            throw new UsageException($"{(baseTokensPerStep is null ? "--base-tokens-per-step" : "--base-tokens")} is missing: --base-tokens-per-step and --base-tokens come together.");
        }

        foreach (var (option, given, actual, how) in new[] { ("--tokens-per-step", result.GetValue(TokensPerStep), tokensPerStep, "--batch-size x --block-size"), ("--tokens", result.GetValue(Tokens), tokens, "--steps x --batch-size x --block-size") })
        {
            if (given is { } g && g != actual)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{option} must equal {how} = {actual} (this run's), but was {g}."));
            }
        }

        TrainingShape baseRun;
        try
        {
            baseRun = new TrainingShape(baseTokensPerStep.Value, baseTokens.Value);
        }
        catch (ArgumentException e)
        {
            string option = e.ParamName == "tokens" ? "--base-tokens" : "--base-tokens-per-step";
            throw new UsageException($"{option}: {e.Message.Split(" (Parameter", 2)[0]}", e);
        }

        var run = new TrainingShape(tokensPerStep, tokens);
        try
        {
            // The engine's check of the square-root rule (kappa * (1 - beta) < 1), as a usage error naming this sample's options.
            _ = new RuleSetup(Parameterization.Parse(setup.Parameterization, setup.Alpha), new ModelShape(setup.BaseWidth, setup.BaseDepth),
                new ModelShape(setup.Width, setup.Depth), setup.HeadDim, new BaseHyperparameters(setup.LearningRate, setup.InitStd, setup.WeightDecay, setup.Eps, setup.Beta1, setup.Beta2),
                null, baseRun, run);
        }
        catch (ArgumentException e) when (e.ParamName is "targetTraining" or "beta1" or "beta2")
        {
            string message = e.Message.Split(" (Parameter", 2)[0]
                .Replace("targetTraining.TokensPerStep", "this run's tokens per step (--batch-size x --block-size)", StringComparison.Ordinal)
                .Replace("hyperparameters.Beta1", "--beta1", StringComparison.Ordinal).Replace("hyperparameters.Beta2", "--beta2", StringComparison.Ordinal);
            throw new UsageException(message, e);
        }

        var scaling = new TrainingScaling(baseRun, run);
        int? warmup = settings.WarmupSteps is { } w ? (int)Math.Min(int.MaxValue, scaling.TargetSteps(w)) : null;
        return (setup with { BaseTraining = baseRun, TargetTraining = run }, settings with { WarmupSteps = warmup });
    }
}
