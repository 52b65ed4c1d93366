using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CompleteP.Plotting;
using CompleteP.CoordinateChecks;
using NanoGpt;
using static TorchSharp.torch;

namespace CompleteP.Cli;


/// <summary>
/// <c>completep coord-check</c>: coordinate checks (width sweep at the base depth, depth sweep at the
/// base width) and the laziness check on the nanoGPT model, trained on one fixed batch of the embedded
/// tiny-Shakespeare corpus (char-level). Writes coordcheck.csv, laziness.csv, coordcheck.json,
/// widthsweep.png, depthsweep.png, laziness.png and summary.md.
/// </summary>
internal static class CoordCheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var parameterizations = new Option<string>("--parameterizations") { Description = "comma-separated: sp, mup, completep, depth-mup, alpha=A", DefaultValueFactory = _ => "sp,mup,completep,depth-mup" };
        var widths = new Option<string>("--widths") { Description = "widths of the width sweep (at the base depth)", DefaultValueFactory = _ => "64,128,256" };
        var depths = new Option<string>("--depths") { Description = "depths of the depth sweep (at the base width)", DefaultValueFactory = _ => "2,4,8,16,32" };
        var baseWidth = new Option<int>("--base-width") { Description = "base width N_base", DefaultValueFactory = _ => 64 };
        var baseDepth = new Option<int>("--base-depth") { Description = "base depth L_base", DefaultValueFactory = _ => 2 };
        var headDim = new Option<int>("--head-dim") { Description = "attention head dimension", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "steps to record (step 1 is before the first update)", DefaultValueFactory = _ => 10 };
        var seeds = new Option<int>("--seeds") { Description = "number of seeds to average over", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { Description = "base learning rate", DefaultValueFactory = _ => 1e-3 };
        var initStd = new Option<double>("--init-std") { Description = "base init std", DefaultValueFactory = _ => 0.02 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "base AdamW weight decay", DefaultValueFactory = _ => 0.0 };
        var eps = new Option<double>("--eps") { Description = "base Adam epsilon", DefaultValueFactory = _ => 1e-8 };
        var beta1 = new Option<double>("--beta1") { Description = "AdamW beta1", DefaultValueFactory = _ => 0.9 };
        var beta2 = new Option<double>("--beta2") { Description = "AdamW beta2", DefaultValueFactory = _ => 0.95 };
        var clip = new Option<double>("--grad-clip") { Description = "gradient-norm clipping (0: off)", DefaultValueFactory = _ => 0.0 };
        var batchSize = new Option<int>("--batch-size") { Description = "sequences per batch", DefaultValueFactory = _ => 8 };
        var blockSize = new Option<int>("--block-size") { Description = "tokens per sequence", DefaultValueFactory = _ => 128 };
        var modules = new Option<string?>("--modules") { Description = "comma-separated glob patterns of module names to record (default: inputs, blocks, branches, final norm, readout)" };
        var metric = new Option<string>("--metric") { Description = "rms, mean-abs or delta-rms: what the verdicts and plots use", DefaultValueFactory = _ => "rms" };
        metric.AcceptOnlyFromAmong("rms", "mean-abs", "delta-rms");
        var tolerance = new Option<double>("--tolerance") { Description = "how far a slope may stray from its prediction", DefaultValueFactory = _ => CoordinateCheckReport.DefaultTolerance };
        var laziness = new Option<bool>("--laziness") { Description = "also run the laziness check over the depths", DefaultValueFactory = _ => true };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "coordcheck" };

        var command = new Command("coord-check", "Coordinate checks across width and depth, and the laziness check, on the nanoGPT model and tiny Shakespeare; writes CSV, JSON, PNG plots and a verdict summary.")
        {
            parameterizations, widths, depths, baseWidth, baseDepth, headDim, steps, seeds, lr, initStd, weightDecay, eps, beta1, beta2, clip,
            batchSize, blockSize, modules, metric, tolerance, laziness, outDir,
        };

        command.SetAction(r =>
        {
            var settings = new CoordinateCheckSettings
            {
                Parameterizations = r.GetValue(parameterizations)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(name => ParseParameterization(name)).ToList(),
                BaseShape = new ModelShape(OptionValues.Positive(r.GetValue(baseWidth), "--base-width"), OptionValues.Positive(r.GetValue(baseDepth), "--base-depth")),
                HeadDim = OptionValues.Positive(r.GetValue(headDim), "--head-dim"),
                Widths = Integers(r.GetValue(widths)!, "--widths"),
                Depths = Integers(r.GetValue(depths)!, "--depths"),
                Steps = OptionValues.Positive(r.GetValue(steps), "--steps"),
                Seeds = Enumerable.Range(0, OptionValues.Positive(r.GetValue(seeds), "--seeds")).ToList(),
                Hyperparameters = new BaseHyperparameters(r.GetValue(lr), r.GetValue(initStd), r.GetValue(weightDecay), r.GetValue(eps)),
                Beta1 = r.GetValue(beta1),
                Beta2 = r.GetValue(beta2),
                GradientClip = r.GetValue(clip),
                ModulePatterns = (r.GetValue(modules) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            settings.Validate();
            foreach (int w in settings.Widths.Append(settings.BaseShape.Width))
            {
                if (w % settings.HeadDim != 0)
                {
                    throw new ArgumentException($"--head-dim {settings.HeadDim} must divide every width, but not {w}.");
                }
            }

            int batch = OptionValues.Positive(r.GetValue(batchSize), "--batch-size"), block = OptionValues.Positive(r.GetValue(blockSize), "--block-size");
            var chosenMetric = r.GetValue(metric) switch { "mean-abs" => CoordinateMetric.MeanAbs, "delta-rms" => CoordinateMetric.DeltaRms, _ => CoordinateMetric.Rms };
            string folder = r.GetValue(outDir)!;
            Directory.CreateDirectory(folder);

            var clock = Stopwatch.StartNew();
            using var corpus = TinyShakespeare.Load();
            var batches = settings.Seeds.ToDictionary(s => s, s => corpus.GetBatch(DataSplit.Train, batch, block, seed: s));
            nn.Module<Tensor, Tensor> Factory(int width, int depth) => new Gpt(new GptConfig(corpus.VocabSize, block, depth, width, settings.HeadDim));
            (Tensor, Tensor) Batch(int step, int seed) => batches[seed];
            static Tensor Loss(Tensor logits, Tensor target) => nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), target.view(-1));
            var progress = new Progress(error);

            error.WriteLine($"coord-check: {settings.Parameterizations.Count} parameterization(s) x {settings.Shapes().Count} shape(s) x {settings.Seeds.Count} seed(s), {settings.Steps} steps, batch {batch}x{block}, on CPU with {get_num_threads()} threads");
            var result = CoordinateCheck.Run(Factory, Batch, Loss, settings, progress);
            if (r.GetValue(laziness) && settings.Depths.Count >= 2)
            {
                error.WriteLine("coord-check: laziness check (one step per depth, float64)");
                result = result with { Laziness = CoordinateCheck.Laziness(Factory, Batch, Loss, settings, progress) };
            }

            var report = result.Report(chosenMetric, r.GetValue(tolerance));
            File.WriteAllText(Path.Combine(folder, "coordcheck.csv"), result.ToCsv());
            File.WriteAllText(Path.Combine(folder, "coordcheck.json"), result.ToJson());
            if (result.Laziness.Count > 0)
            {
                File.WriteAllText(Path.Combine(folder, "laziness.csv"), result.LazinessToCsv());
            }

            var pictures = CoordinateCheckPlots.All(result.Measurements, result.Laziness.Count > 0 ? result.Laziness : null, folder, chosenMetric);
            string summary = report.Summary();
            string wall = clock.Elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(folder, "summary.md"),
                $"# Coordinate check\n\nCommand: `completep {string.Join(' ', r.Tokens.Select(t => t.Value))}`\n\nMetric: {chosenMetric}, tolerance {r.GetValue(tolerance)}. Wall time: {wall} s.\n\n{summary}");
            output.WriteLine(summary);
            output.WriteLine($"wrote {string.Join(", ", new[] { "coordcheck.csv", "coordcheck.json" }.Concat(result.Laziness.Count > 0 ? ["laziness.csv"] : []).Concat(pictures.Select(Path.GetFileName)).Append("summary.md"))} to {folder} in {wall} s");
            return 0;
        });
        return command;
    }

    private static Parameterization ParseParameterization(string name)
    {
        try
        {
            return Parameterization.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--parameterizations: {e.Message}", "--parameterizations", e);
        }
    }

    private static List<int> Integers(string text, string option) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
            int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v
                : throw new ArgumentException($"{option} must be a comma-separated list of integers of at least 1, but was '{text}' ('{t}').")).ToList();

    /// <summary>One line per finished run on standard error.</summary>
    private sealed class Progress(TextWriter error) : IProgress<CoordinateCheckProgress>
    {
        public void Report(CoordinateCheckProgress value) => error.WriteLine("  " + value);
    }
}
