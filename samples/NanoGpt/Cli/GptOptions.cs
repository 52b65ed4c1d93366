using System.CommandLine;
using Scheme = CompleteP.Parameterization;

namespace NanoGpt.Cli;

/// <summary>The options shared by <c>train</c> and <c>plan</c>: parameterization, shapes, base hyperparameters, seed.</summary>
internal sealed class GptOptions
{
    public GptOptions(GptSetup defaults)
    {
        Parameterization = new Option<string>("--parameterization", "-p")
        {
            Description = "sp, mup, completep, depth-mup (or alpha=A)",
            DefaultValueFactory = _ => defaults.Parameterization,
        };
        Parameterization.Validators.Add(r =>
        {
            try
            {
                Scheme.Parse(r.GetValueOrDefault<string>() ?? string.Empty);
            }
            catch (ArgumentException e)
            {
                r.AddError($"--parameterization: {FirstLine(e.Message)}");
            }
        });
        Alpha = OptionFactory.OptionalDouble("--alpha", "depth exponent (completep: 1, depth-mup: 0.5)", 0.5, 1.0);
        Width = OptionFactory.Int("--width", "width N (d_model)", defaults.Width);
        Depth = OptionFactory.Int("--depth", "depth L (number of blocks)", defaults.Depth);
        BaseWidth = OptionFactory.Int("--base-width", "width the base hyperparameters were tuned at", defaults.BaseWidth);
        BaseDepth = OptionFactory.Int("--base-depth", "depth the base hyperparameters were tuned at", defaults.BaseDepth);
        HeadDim = OptionFactory.Int("--head-dim", "attention head dimension (must divide --width)", defaults.HeadDim);
        BlockSize = OptionFactory.Int("--block-size", "context length in tokens", defaults.BlockSize);
        LearningRate = OptionFactory.Double("--lr", "base learning rate eta", defaults.LearningRate, 0, minExclusive: true);
        InitStd = OptionFactory.Double("--init-std", "base init std sigma", defaults.InitStd, 0);
        WeightDecay = OptionFactory.Double("--weight-decay", "base AdamW weight decay lambda (coupled, as PyTorch)", defaults.WeightDecay, 0);
        Eps = OptionFactory.Double("--eps", "base Adam epsilon", defaults.Eps, 0, minExclusive: true);
        Bias = OptionFactory.Bool("--bias", "whether Linears and LayerNorms have biases", defaults.Bias);
        TiedHead = OptionFactory.Bool("--tied-head", "whether lm_head shares wte's weight (false: a readout Linear of its own)", defaults.TiedHead);
        Seed = new Option<long>("--seed") { Description = "seed of the initialization, the batches and the sample", DefaultValueFactory = _ => defaults.Seed };
    }

    public Option<string> Parameterization { get; }

    public Option<double?> Alpha { get; }

    public Option<int> Width { get; }

    public Option<int> Depth { get; }

    public Option<int> BaseWidth { get; }

    public Option<int> BaseDepth { get; }

    public Option<int> HeadDim { get; }

    public Option<int> BlockSize { get; }

    public Option<double> LearningRate { get; }

    public Option<double> InitStd { get; }

    public Option<double> WeightDecay { get; }

    public Option<double> Eps { get; }

    public Option<long> Seed { get; }

    public Option<bool> Bias { get; }

    public Option<bool> TiedHead { get; }

    public HpOptions Hp { get; } = new();

    public IEnumerable<Option> All =>
        [Parameterization, Alpha, Width, Depth, BaseWidth, BaseDepth, HeadDim, BlockSize, LearningRate, InitStd, WeightDecay, Eps, Seed, Bias, TiedHead, .. Hp.All];

    /// <summary>The setup the options describe; throws <see cref="UsageException"/> on values that only together are wrong.</summary>
    public GptSetup Read(ParseResult result, int vocabSize)
    {
        var setup = new GptSetup(
            result.GetValue(Parameterization)!, result.GetValue(Alpha), result.GetValue(Width), result.GetValue(Depth),
            result.GetValue(BaseWidth), result.GetValue(BaseDepth), result.GetValue(HeadDim), vocabSize, result.GetValue(BlockSize),
            result.GetValue(LearningRate), result.GetValue(InitStd), result.GetValue(WeightDecay), result.GetValue(Eps), result.GetValue(Seed),
            Bias: result.GetValue(Bias), TiedHead: result.GetValue(TiedHead), Modules: Hp.Read(result), Multipliers: Hp.ReadMultipliers(result));
        if (setup.Width % setup.HeadDim != 0)
        {
            throw new UsageException($"--head-dim must divide --width ({setup.Width}), but was {setup.HeadDim}.");
        }

        try
        {
            Scheme.Parse(setup.Parameterization, setup.Alpha);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--alpha: {FirstLine(e.Message)}", e);
        }

        HpOptions.Check(setup);
        return setup;
    }

    private static string FirstLine(string message)
    {
        var first = message.Split('\n')[0].Trim();
        int suffix = first.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return suffix >= 0 ? first[..suffix] : first;
    }
}
