using System.CommandLine;

namespace NanoGpt.Cli;

/// <summary>
/// The training options shared by <c>train</c> and <c>sweep</c>: the LR schedule, AdamW's betas, gradient clipping and
/// the corpus. Their defaults are the values the sample used before they were options.
/// </summary>
internal sealed class TrainingOptions
{
    public TrainingOptions()
    {
        Schedule = OptionFactory.OneOf("--schedule", "learning-rate schedule (cosine: linear warm-up, then cosine decay)", "cosine", "constant", "cosine");
        WarmupSteps = OptionFactory.OptionalInt("--warmup-steps", "steps of linear warm-up (default: 5% of the steps under cosine, none under constant; train with --base-tokens: the base run's, carried over as a fraction of the run)", 0);
        FinalLrFraction = OptionFactory.Double("--final-lr-fraction", "the cosine decay ends at this share of the LR", 0.1, 0, max: 1);
        Beta1 = OptionFactory.Double("--beta1", "AdamW's first-moment decay", 0.9, 0, max: 0.999999);
        Beta2 = OptionFactory.Double("--beta2", "AdamW's second-moment decay", 0.99, 0, max: 0.999999);
        GradClip = OptionFactory.Double("--grad-clip", "global gradient-norm clip (0 = off)", 1.0, 0);
        Data = new Option<string?>("--data") { Description = "a UTF-8 text file to train on, character level (default: the embedded tiny Shakespeare)" };
    }

    public Option<string> Schedule { get; }

    public Option<int?> WarmupSteps { get; }

    public Option<double> FinalLrFraction { get; }

    public Option<double> Beta1 { get; }

    public Option<double> Beta2 { get; }

    public Option<double> GradClip { get; }

    public Option<string?> Data { get; }

    public IEnumerable<Option> All => [Schedule, WarmupSteps, FinalLrFraction, Beta1, Beta2, GradClip, Data];

    /// <summary>The corpus <c>--data</c> names (the embedded one by default); a missing or too short file is a usage error.</summary>
    public TinyShakespeare LoadData(ParseResult result)
    {
        string? path = result.GetValue(Data);
        if (path is not null && !File.Exists(path))
        {
            throw new UsageException($"--data: no file '{path}'.");
        }

        try
        {
            return TinyShakespeare.Load(path);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--data: {e.Message.Split(" (Parameter", 2)[0]}", e);
        }
    }

    /// <summary>Training settings with the schedule and clipping these options set.</summary>
    public TrainSettings Apply(ParseResult result, TrainSettings settings) => settings with
    {
        GradClip = result.GetValue(GradClip),
        MinLrFraction = result.GetValue(FinalLrFraction),
        Schedule = result.GetValue(Schedule) == "constant" ? LrSchedule.Constant : LrSchedule.Cosine,
        WarmupSteps = result.GetValue(WarmupSteps),
    };

    /// <summary>A setup with the betas these options set.</summary>
    public GptSetup Apply(ParseResult result, GptSetup setup) => setup with { Beta1 = result.GetValue(Beta1), Beta2 = result.GetValue(Beta2) };
}
