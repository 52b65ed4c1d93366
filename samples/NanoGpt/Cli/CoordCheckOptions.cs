using System.CommandLine;
using CompleteP;
using CompleteP.CoordinateChecks;

namespace NanoGpt.Cli;

/// <summary>The options of <c>coord-check</c>, with their defaults, and the settings they describe.</summary>
internal sealed class CoordCheckOptions
{
    public Option<string> Parameterizations { get; } = new("--parameterizations") { Description = "comma-separated: sp, mup, completep, depth-mup, alpha=A", DefaultValueFactory = _ => "sp,mup,completep,depth-mup" };

    public Option<string> Widths { get; } = new("--widths") { Description = "widths of the width sweep (at the base depth)", DefaultValueFactory = _ => "64,128,256,512" };

    public Option<string> Depths { get; } = new("--depths") { Description = "depths of the depth sweep (at the base width)", DefaultValueFactory = _ => "2,4,8,16,32" };

    public Option<int> BaseWidth { get; } = OptionFactory.Int("--base-width", "base width N_base", 64);

    public Option<int> BaseDepth { get; } = OptionFactory.Int("--base-depth", "base depth L_base", 2);

    public Option<int> HeadDim { get; } = OptionFactory.Int("--head-dim", "attention head dimension", 32);

    public Option<int> Steps { get; } = OptionFactory.Int("--steps", "steps to record (step 1 is before the first update)", 6);

    public Option<int> Seeds { get; } = OptionFactory.Int("--seeds", "number of seeds to average over", 3);

    public Option<double> LearningRate { get; } = new("--lr") { Description = "base learning rate", DefaultValueFactory = _ => 1e-3 };

    public Option<double> InitStd { get; } = new("--init-std") { Description = "base init std", DefaultValueFactory = _ => 0.02 };

    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "base AdamW weight decay", DefaultValueFactory = _ => 0.0 };

    public Option<double> Eps { get; } = new("--eps") { Description = "base Adam epsilon", DefaultValueFactory = _ => 1e-8 };

    public Option<double> Beta1 { get; } = new("--beta1") { Description = "AdamW beta1", DefaultValueFactory = _ => 0.9 };

    public Option<double> Beta2 { get; } = new("--beta2") { Description = "AdamW beta2", DefaultValueFactory = _ => 0.95 };

    public Option<double> GradientClip { get; } = new("--grad-clip") { Description = "gradient-norm clipping (0: off)", DefaultValueFactory = _ => 0.0 };

    public Option<int> BatchSize { get; } = OptionFactory.Int("--batch-size", "sequences per batch", 8);

    public Option<int> BlockSize { get; } = OptionFactory.Int("--block-size", "tokens per sequence", 128);

    public Option<string?> Modules { get; } = new("--modules") { Description = "comma-separated glob patterns of module names to record (default: inputs, blocks, branches, final norm, readout)" };

    public Option<string> Metric { get; } = OneOf(new("--metric") { Description = "rms, mean-abs or delta-rms: what the verdicts and plots use", DefaultValueFactory = _ => "rms" }, "rms", "mean-abs", "delta-rms");

    public Option<double> Tolerance { get; } = new("--tolerance") { Description = "how far a slope may stray from its prediction", DefaultValueFactory = _ => CoordinateCheckReport.DefaultTolerance };

    public Option<string> VerdictMinWidth { get; } = new("--verdict-min-width")
    {
        Description = "narrowest width the width verdicts judge (narrower widths are measured and plotted only); 'auto' sets aside the narrowest width of a sweep of 3 or more, 'all' judges every width",
        DefaultValueFactory = _ => "auto",
    };

    public Option<bool> Laziness { get; } = new("--laziness") { Description = "also run the laziness check over the depths", DefaultValueFactory = _ => true };

    public Option<bool> Controls { get; } = OptionFactory.Bool("--controls",
        "also run the control that must fail each sweep (SP across width, muP across depth); when it passes too, the verdict is inconclusive", true);

    public Option<string> Out { get; } = new("--out") { Description = "output folder", DefaultValueFactory = _ => "coordcheck" };

    /// <summary><c>--hp</c> and <c>--hp-file</c>: per-module base hyperparameters, checked with the factors a run will use.</summary>
    public HpOptions Hp { get; } = new();

    public IEnumerable<Option> All =>
    [
        Parameterizations, Widths, Depths, BaseWidth, BaseDepth, HeadDim, Steps, Seeds, LearningRate, InitStd, WeightDecay, Eps, Beta1, Beta2,
        GradientClip, BatchSize, BlockSize, Modules, Metric, Tolerance, VerdictMinWidth, Laziness, Controls, Out, .. Hp.All,
    ];

    /// <summary>The settings the options describe; a bad value or combination is a <see cref="UsageException"/> naming the option.</summary>
    public CoordinateCheckSettings Read(ParseResult r)
    {
        var parameterizations = OptionFactory.Items(r.GetValue(Parameterizations)!, "--parameterizations")
            .Select(name => Refused("--parameterizations", () => Parameterization.Parse(name))).ToList();
        var modules = Hp.Read(r);
        var hyperparameters = Refused("--lr, --init-std, --weight-decay, --eps",
            () => new BaseHyperparameters(r.GetValue(LearningRate), r.GetValue(InitStd), r.GetValue(WeightDecay), r.GetValue(Eps), modules: modules));
        var settings = new CoordinateCheckSettings
        {
            Parameterizations = parameterizations,
            BaseShape = new ModelShape(r.GetValue(BaseWidth), r.GetValue(BaseDepth)),
            HeadDim = r.GetValue(HeadDim),
            Widths = OptionFactory.PositiveIntegers(r.GetValue(Widths)!, "--widths"),
            Depths = OptionFactory.PositiveIntegers(r.GetValue(Depths)!, "--depths"),
            Steps = r.GetValue(Steps),
            Seeds = Enumerable.Range(0, r.GetValue(Seeds)).ToList(),
            Hyperparameters = hyperparameters,
            Beta1 = r.GetValue(Beta1),
            Beta2 = r.GetValue(Beta2),
            GradientClip = r.GetValue(GradientClip),
            ModulePatterns = (r.GetValue(Modules) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            RunControls = r.GetValue(Controls),
            RuleOptions = Hp.ReadMultipliers(r) ?? RuleOptions.Default,
        };
        Refused("--beta1, --beta2, --grad-clip", () => settings.Validate());

        // An --hp entry that selects no tensor of the checked model (the sample's GPT, biases and tied head) is refused before any run.
        HpOptions.Check(new GptSetup("mup", null, settings.BaseShape.Width, settings.BaseShape.Depth, settings.BaseShape.Width, settings.BaseShape.Depth,
            settings.HeadDim, VocabSize: 65, r.GetValue(BlockSize), hyperparameters.LearningRate, hyperparameters.InitStd, hyperparameters.WeightDecay,
            hyperparameters.AdamEpsilon, Seed: 0, Modules: modules));
        foreach (int w in settings.Widths.Append(settings.BaseShape.Width))
        {
            if (w % settings.HeadDim != 0)
            {
                throw new UsageException($"--head-dim {settings.HeadDim} must divide every width, but not {w}.");
            }
        }

        return settings;
    }

    /// <summary>The narrowest width the width verdicts judge: a number, all widths (null), or by default the second-narrowest of 3 or more.</summary>
    public int? ReadVerdictMinWidth(ParseResult r, IReadOnlyList<int> widths)
    {
        string text = r.GetValue(VerdictMinWidth)!.Trim().ToLowerInvariant();
        if (text == "all")
        {
            return null;
        }

        if (text == "auto")
        {
            var sorted = widths.Distinct().Order().ToList();
            return sorted.Count >= 3 ? sorted[1] : null;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int width) && width > 0
            ? width
            : throw new UsageException($"--verdict-min-width must be auto, all or a width of at least 1, but was '{text}'.");
    }

    private static Option<string> OneOf(Option<string> option, params string[] allowed)
    {
        option.AcceptOnlyFromAmong(allowed);
        return option;
    }

    /// <summary>Runs <paramref name="create"/>; the library's refusal becomes a usage error that names the options involved.</summary>
    private static T Refused<T>(string options, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            string message = e.Message.Split('\n')[0].Trim();
            int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw new UsageException($"{options}: {(suffix >= 0 ? message[..suffix] : message)}", e);
        }
    }

    private static void Refused(string options, Action check) => Refused(options, () =>
    {
        check();
        return true;
    });
}
