using System.Globalization;
using Scheme = CompleteP.Parameterization;

namespace NanoGpt.Cli;

/// <summary>
/// One run of a sweep: the model and optimizer setup and the training settings, and its CSV row. Every setting is a
/// column, so rows of sweeps run with different settings stay comparable; the setting columns (<see cref="KeyHeader"/>)
/// identify the run, which is how <c>sweep --resume</c> finds the runs already done.
/// </summary>
internal sealed record SweepConfiguration(GptSetup Setup, TrainSettings Settings)
{
    /// <summary>
    /// Whether the CSV has the transfer columns (<see cref="TransferHeader"/>). A run without a base run in such a CSV
    /// (no <c>--base-tokens-per-step</c>) writes them empty: its hyperparameters are the base ones, unscaled, which is
    /// how a sweep compares the batch and length rules with no rule in one CSV.
    /// </summary>
    public bool TransferColumns { get; init; }

    /// <summary>
    /// Whether the CSV has the <c>hp</c> column (<see cref="HpHeader"/>): the per-module base hyperparameters of <c>--hp</c> and the
    /// forward multipliers (<c>--alpha-in</c>, <c>--alpha-out</c>, <c>--alpha-attn</c>) that are not 1, joined by <c>;</c> (<see cref="HpOptions.Describe"/>). A run without them in such a CSV writes it empty; a sweep without <c>--hp</c> writes no such column, so older CSVs resume as before.
    /// </summary>
    public bool HpColumn { get; init; }

    /// <summary>The columns that identify a run: every setting.</summary>
    public const string KeyHeader = "parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead";

    /// <summary>The setting columns a sweep with the batch and length transfer (<c>--base-tokens-per-step</c>, <c>--base-tokens</c>) adds after <see cref="KeyHeader"/>.</summary>
    public const string TransferHeader = ",baseTokensPerStep,baseTokens";

    /// <summary>The setting column a sweep with <c>--hp</c> adds after <see cref="KeyHeader"/> and the transfer columns.</summary>
    public const string HpHeader = ",hp";

    /// <summary>The result columns.</summary>
    public const string ResultHeader = ",trainLoss,valLoss,diverged,seconds,device";

    /// <summary>The sweep CSV's header: the settings, then the results.</summary>
    public const string CsvHeader = KeyHeader + ResultHeader;

    /// <summary>The number of setting columns.</summary>
    public static int KeyColumns { get; } = KeyHeader.Split(',').Length;

    /// <summary>The header of a sweep with or without the transfer columns (without: <see cref="CsvHeader"/>, so older CSVs resume as before).</summary>
    /// <param name="transfer">Whether the transfer columns are in.</param>
    /// <param name="hp">Whether the hp column is in.</param>
    public static string CsvHeaderFor(bool transfer, bool hp = false) => KeyHeader + (transfer ? TransferHeader : string.Empty) + (hp ? HpHeader : string.Empty) + ResultHeader;

    /// <summary>Which optional columns a sweep header has (<see cref="CsvHeaderFor"/>'s arguments); null for a header of no sweep schema.</summary>
    public static (bool Transfer, bool Hp)? SchemaOf(string header) =>
        (from transfer in new[] { false, true } from hp in new[] { false, true } where header == CsvHeaderFor(transfer, hp) select ((bool, bool)?)(transfer, hp)).FirstOrDefault();

    /// <summary>The setting columns of this run, as written in the CSV.</summary>
    public string Key
    {
        get
        {
            double? alpha = Scheme.Parse(Setup.Parameterization, Setup.Alpha).DepthExponent;
            return string.Join(',',
                Setup.Parameterization, alpha is double a ? F(a) : string.Empty, I(Setup.Width), I(Setup.Depth), I(Setup.BaseWidth), I(Setup.BaseDepth),
                I(Setup.HeadDim), F(Setup.LearningRate), Setup.Seed.ToString(CultureInfo.InvariantCulture), I(Settings.Steps), I(Settings.BatchSize),
                I(Settings.BlockSize), Settings.Schedule.ToString().ToLowerInvariant(), I(Settings.Warmup), F(Setup.Beta1), F(Setup.Beta2), F(Setup.Eps),
                F(Setup.WeightDecay), F(Settings.GradClip), Setup.Bias ? "true" : "false", Setup.TiedHead ? "true" : "false")
                + (Setup.BaseTraining is { } b ? string.Create(CultureInfo.InvariantCulture, $",{b.TokensPerStep},{b.Tokens}")
                    : TransferColumns ? ",," : string.Empty)
                + (HpColumn ? "," + HpOptions.Describe(Setup.Modules, Setup.Multipliers) : string.Empty);
        }
    }

    /// <summary>The key of a CSV row: its setting fields (<see cref="KeyColumns"/>, the transfer columns when <paramref name="transfer"/>, the hp column when <paramref name="hp"/>).</summary>
    public static string KeyOf(string row, bool transfer = false, bool hp = false) => string.Join(',', row.Split(',').Take(KeyColumns + (transfer ? 2 : 0) + (hp ? 1 : 0)));

    /// <summary>
    /// The CSV row of a finished run: the settings, the final losses (both null for a run that diverged, written as
    /// empty fields with diverged=true), the seconds it took and the device.
    /// </summary>
    public string Row((double Train, double Val)? losses, double seconds, string device) =>
        string.Join(',', Key,
            losses is { } l ? F(l.Train) : string.Empty,
            losses is { } m ? F(m.Val) : string.Empty,
            losses is null ? "true" : "false",
            seconds.ToString("F1", CultureInfo.InvariantCulture),
            device);

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
