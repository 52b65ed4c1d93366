using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace CompleteP.Cli;

/// <summary>
/// <c>completep analyze-sweep</c>: reads a learning-rate sweep CSV (as the nanoGPT sample's <c>sweep</c> writes it)
/// and reports, per parameterization and shape, from the seed means: the best base learning rate (a parabola in
/// log2(lr) through the best grid point and its neighbours), its drift from the base shape in octaves, the regret of
/// the base shape's best learning rate, the seed spread, and a verdict (transfers, drifts or inconclusive), as a
/// table, markdown or JSON.
/// </summary>
internal static class AnalyzeSweepCommand
{
    private static readonly string[] Headers =
        ["parameterization", ">width", ">depth", ">best lr (fit)", ">log2", ">best grid lr", ">loss ± se", ">seeds", ">drift (oct)", ">regret ± se", "verdict", "why"];

    private const string Legend =
        "best lr (fit): vertex of a parabola in log2(lr) through the best grid point (lowest seed mean) and its neighbours; drift: log2 of the best lr over the base shape's, in octaves; "
        + "regret: loss at the base shape's best grid lr minus the best loss (± from the per-seed differences); se: standard error over seeds; a point where any seed diverged is diverged.";

    /// <summary>The columns a sweep across batch sizes or lengths adds after depth: the training shape and whether the batch and length rules scaled it.</summary>
    private static readonly string[] TrainingHeaders = [">batch", ">steps", "rule"];

    public static Command Create(TextWriter output)
    {
        var csv = new Argument<string>("csv") { Description = "the sweep CSV (columns parameterization, width, depth, baseWidth, baseDepth, lr, seed, diverged and the loss)" };
        var loss = new Option<string>("--loss") { Description = "the loss column to compare: valLoss (default) or trainLoss", DefaultValueFactory = _ => "valLoss" };
        loss.AcceptOnlyFromAmong("valLoss", "trainLoss");
        var format = new Option<string>("--format") { Description = "table (default), markdown or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "markdown", "json");
        var tolerance = new Option<double>("--tolerance")
        {
            Description = "the largest drift of the best learning rate, in octaves, that counts as transfer",
            DefaultValueFactory = _ => SweepAnalysis.DefaultTolerance,
        };
        tolerance.Validators.Add(r =>
        {
            double value = r.GetValueOrDefault<double>();
            if (!(value >= 0) || !double.IsFinite(value))
            {
                r.AddError($"--tolerance must be a number of octaves in [0, inf), but was '{value.ToString(CultureInfo.InvariantCulture)}'.");
            }
        });
        var command = new Command("analyze-sweep", "Find the best base learning rate per parameterization and shape in a learning-rate sweep CSV, how far it drifts from the base shape's, what the base shape's costs, and whether the data can tell.")
        {
            csv, loss, format, tolerance,
        };

        command.SetAction(r =>
        {
            string path = r.GetValue(csv)!;
            if (!File.Exists(path))
            {
                throw new ArgumentException($"csv: no file '{path}'.", "csv");
            }

            string column = r.GetValue(loss)!;
            var optima = SweepAnalysis.Optima(SweepCsv.Parse(File.ReadAllText(path), column, path), r.GetValue(tolerance));
            string title = $"best base learning rate per shape ({column}, seed means)";
            bool training = AcrossTraining(optima), hp = WithHp(optima);
            // The optional columns: hp after the parameterization, the training shape after width and depth.
            IReadOnlyList<string> Arrange(IReadOnlyList<string> cells, string hpCell, IReadOnlyList<string> trainingCells) =>
                [.. cells.Take(1), .. hp ? [hpCell] : Array.Empty<string>(), .. cells.Skip(1).Take(2), .. training ? trainingCells : [], .. cells.Skip(3)];
            var headers = Arrange(Headers, "hp", TrainingHeaders);
            IReadOnlyList<string> Cells(SweepOptimum o) => Arrange(AnalyzeSweepCommand.Cells(o), o.Hp.Length > 0 ? o.Hp : "none", TrainingCells(o));
            switch (r.GetValue(format))
            {
                case "json":
                    WriteJson(output, column, r.GetValue(tolerance), optima);
                    break;
                case "markdown":
                    ConsoleTable.WriteMarkdown(output, title, headers, optima.Select(Cells));
                    output.WriteLine();
                    output.WriteLine(Legend);
                    output.WriteLine();
                    foreach (var line in Summary(optima))
                    {
                        output.WriteLine($"- {line}");
                    }

                    break;
                default:
                    ConsoleTable.Write(output, title, headers, optima.Select(Cells));
                    output.WriteLine(Legend);
                    foreach (var line in Summary(optima))
                    {
                        output.WriteLine(line);
                    }

                    break;
            }

            return 0;
        });
        return command;
    }

    private static IReadOnlyList<string> Cells(SweepOptimum o) =>
    [
        o.Parameterization, N(o.Width), N(o.Depth),
        o.FittedLearningRate is { } f ? Rate(f) : "-",
        o.FittedLearningRate is { } g ? Math.Log2(g).ToString("0.00", CultureInfo.InvariantCulture) : "-",
        o.Best is { } b ? Rate(b.LearningRate) : "-",
        o.Best is { } c ? WithError(c.Loss, c.StandardError) : "diverged",
        o.Best is { } d ? N(d.Seeds) : "-",
        o.Drift is { } drift ? drift.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "-",
        o.Regret is { } regret && !o.IsBase ? WithError(regret, o.RegretStandardError) : "-",
        o.Verdict is { } v ? Word(v) : "-",
        o.Reason,
    ];

    /// <summary>Whether the sweep spans batch sizes or lengths, or declares a base run: the table then shows each shape's training.</summary>
    private static bool AcrossTraining(IReadOnlyList<SweepOptimum> optima) => optima.Any(o => o.Rule) || optima.Select(o => o.Training).Distinct().Count() > 1;

    /// <summary>Whether any run has per-module base hyperparameters: the table then shows each shape's hp value.</summary>
    private static bool WithHp(IReadOnlyList<SweepOptimum> optima) => optima.Any(o => o.Hp.Length > 0);

    private static IReadOnlyList<string> TrainingCells(SweepOptimum o) =>
        [N(o.Training.Batch), N(o.Training.Steps), o.Rule ? $"from {o.BaseTraining.Batch}x{o.BaseTraining.Steps}" : "none"];

    /// <summary>One line per parameterization and base shape: the verdicts and the largest drift.</summary>
    private static IEnumerable<string> Summary(IReadOnlyList<SweepOptimum> optima)
    {
        bool training = AcrossTraining(optima);
        foreach (var group in optima.GroupBy(o => (o.Parameterization, o.Hp, o.Rule, o.BaseWidth, o.BaseDepth, o.BaseTraining)))
        {
            string run = training ? $", {group.Key.BaseTraining}, {(group.Key.Rule ? "with the batch and length rules" : "no batch or length rule")}" : string.Empty;
            string modules = group.Key.Hp.Length > 0 ? $", hp {group.Key.Hp}" : WithHp(optima) ? ", no hp" : string.Empty;
            string name = string.Create(CultureInfo.InvariantCulture, $"{group.Key.Parameterization} (base width {group.Key.BaseWidth}, depth {group.Key.BaseDepth}{run}{modules})");
            var judged = group.Where(o => o.Verdict is not null).ToList();
            if (!group.Any(o => o.IsBase))
            {
                yield return $"{name}: no run at the base shape, so no drift.";
                continue;
            }

            var counts = string.Join(", ", judged.GroupBy(o => o.Verdict!.Value).OrderBy(g => g.Key).Select(g => $"{Word(g.Key)} at {g.Count()}"));
            var farthest = judged.Where(o => o.Drift is not null).MaxBy(o => Math.Abs(o.Drift!.Value));
            string drift = farthest is null
                ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $"; largest drift {farthest.Drift:+0.00;-0.00;0.00} octaves at width {farthest.Width}, depth {farthest.Depth}{(training ? $", {farthest.Training}" : string.Empty)}");
            yield return judged.Count == 0 ? $"{name}: only the base shape." : $"{name}: {counts} of {judged.Count} shapes{drift}.";
        }

        // A per-module search: the same shape under several hp values, ranked by their best loss.
        foreach (var shape in optima.GroupBy(o => (o.Parameterization, o.Rule, o.Width, o.Depth, o.Training)).Where(g => g.Select(o => o.Hp).Distinct().Count() > 1))
        {
            string where = string.Create(CultureInfo.InvariantCulture, $"{shape.Key.Parameterization} at width {shape.Key.Width}, depth {shape.Key.Depth}{(training ? $", {shape.Key.Training}" : string.Empty)}");
            var ranked = shape.Where(o => o.Best is not null).OrderBy(o => o.Best!.Loss)
                .Select(o => string.Create(CultureInfo.InvariantCulture, $"{(o.Hp.Length > 0 ? o.Hp : "no hp")} {WithError(o.Best!.Loss, o.Best.StandardError)} at lr {Rate(o.Best.LearningRate)}"));
            yield return $"{where}, best loss per hp: {string.Join("; ", ranked)}.";
        }
    }

    private static void WriteJson(TextWriter output, string lossColumn, double tolerance, IReadOnlyList<SweepOptimum> optima)
    {
        var document = new
        {
            loss = lossColumn,
            toleranceOctaves = tolerance,
            optima = optima.Select(o => new
            {
                parameterization = o.Parameterization,
                width = o.Width,
                depth = o.Depth,
                baseWidth = o.BaseWidth,
                baseDepth = o.BaseDepth,
                hp = o.Hp,
                batch = o.Training.Batch,
                steps = o.Training.Steps,
                baseBatch = o.BaseTraining.Batch,
                baseSteps = o.BaseTraining.Steps,
                rule = o.Rule,
                bestLearningRate = o.FittedLearningRate,
                bestGridLearningRate = o.Best?.LearningRate,
                loss = o.Best is { } b ? Finite(b.Loss) : null,
                standardError = o.Best?.StandardError,
                seeds = o.Best?.Seeds,
                atGridEdge = o.AtGridEdge,
                drift = o.Drift,
                lossAtBaseOptimum = o.LossAtBaseOptimum is { } l ? Finite(l) : null,
                regret = o.Regret is { } g ? Finite(g) : null,
                regretStandardError = o.RegretStandardError,
                verdict = o.Verdict is { } v ? Word(v) : null,
                reason = o.Reason,
                curve = o.Curve.Select(p => new { learningRate = p.LearningRate, loss = Finite(p.Loss), standardError = p.StandardError, seeds = p.Seeds, diverged = p.Diverged }),
            }),
        };
        output.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>A loss for JSON, which has no infinity: a diverged point is null.</summary>
    private static double? Finite(double loss) => double.IsFinite(loss) ? loss : null;

    private static string Word(TransferVerdict verdict) => verdict.ToString().ToLowerInvariant();

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Rate(double lr) => lr.ToString("G3", CultureInfo.InvariantCulture);

    private static string WithError(double value, double? error) => !double.IsFinite(value)
        ? "diverged"
        : error is { } e
            ? string.Create(CultureInfo.InvariantCulture, $"{value:F4} ± {e:F4}")
            : value.ToString("F4", CultureInfo.InvariantCulture);
}
