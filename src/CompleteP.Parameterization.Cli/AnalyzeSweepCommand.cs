using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CompleteP.Rules;

namespace CompleteP.Cli;

/// <summary>
/// <c>completep analyze-sweep</c>: reads a learning-rate sweep CSV (as the nanoGPT sample's <c>sweep</c> writes it)
/// and reports, per parameterization and shape, the best base learning rate, its loss (averaged over seeds), and
/// its drift from the optimum at the base shape, as a table, markdown or JSON.
/// </summary>
internal static class AnalyzeSweepCommand
{
    private static readonly string[] Headers = ["parameterization", ">width", ">depth", ">best lr", ">loss", ">seeds", ">drift", ">loss at base lr", "note"];

    public static Command Create(TextWriter output)
    {
        var csv = new Argument<string>("csv") { Description = "the sweep CSV (columns parameterization, width, depth, baseWidth, baseDepth, lr, seed, and the loss)" };
        var loss = new Option<string>("--loss") { Description = "the loss column to compare: valLoss (default) or trainLoss", DefaultValueFactory = _ => "valLoss" };
        loss.AcceptOnlyFromAmong("valLoss", "trainLoss");
        var format = new Option<string>("--format") { Description = "table (default), markdown or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "markdown", "json");
        var command = new Command("analyze-sweep", "Find the best base learning rate per parameterization and shape in a learning-rate sweep CSV, and how far it drifts from the optimum at the base shape.")
        {
            csv, loss, format,
        };

        command.SetAction(r =>
        {
            string path = r.GetValue(csv)!;
            if (!File.Exists(path))
            {
                throw new ArgumentException($"csv: no file '{path}'.", "csv");
            }

            string column = r.GetValue(loss)!;
            var optima = SweepAnalysis.Optima(SweepCsv.Parse(File.ReadAllText(path), column, path));
            string title = $"best base learning rate per shape ({column}, mean over seeds; drift = best lr / best lr at the base shape)";
            switch (r.GetValue(format))
            {
                case "json":
                    WriteJson(output, column, optima);
                    break;
                case "markdown":
                    ConsoleTable.WriteMarkdown(output, title, Headers, optima.Select(Cells));
                    output.WriteLine();
                    foreach (var line in Summary(optima))
                    {
                        output.WriteLine($"- {line}");
                    }

                    break;
                default:
                    ConsoleTable.Write(output, title, Headers, optima.Select(Cells));
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
        o.Parameterization, N(o.Width), N(o.Depth), ScaledValue.Format(o.Best.LearningRate), Loss(o.Best.Loss), N(o.Best.Seeds),
        o.Drift is { } drift ? Ratio(drift) : "-", o.LossAtBaseOptimum is { } l ? Loss(l) : "-", Note(o),
    ];

    private static string Note(SweepOptimum o)
    {
        var notes = new List<string>();
        if (o.IsBase)
        {
            notes.Add("base shape");
        }

        if (o.AtGridEdge)
        {
            notes.Add(o.Best == o.Curve[0] ? "lowest lr tried" : "highest lr tried");
        }

        if (o.Drift is null)
        {
            notes.Add($"no run at the base shape {o.BaseWidth}x{o.BaseDepth}");
        }

        return string.Join("; ", notes);
    }

    /// <summary>One line per parameterization and base shape: where the optimum sits at the base shape and how far it moves.</summary>
    private static IEnumerable<string> Summary(IReadOnlyList<SweepOptimum> optima)
    {
        foreach (var group in optima.GroupBy(o => (o.Parameterization, o.BaseWidth, o.BaseDepth)))
        {
            var basis = group.FirstOrDefault(o => o.IsBase);
            string name = string.Create(CultureInfo.InvariantCulture, $"{group.Key.Parameterization} (base width {group.Key.BaseWidth}, depth {group.Key.BaseDepth})");
            if (basis is null)
            {
                yield return $"{name}: no run at the base shape, so no drift.";
                continue;
            }

            var farthest = group.Where(o => o.Drift is not null).MaxBy(o => Math.Abs(Math.Log2(o.Drift!.Value)))!;
            string start = ScaledValue.Format(basis.Best.LearningRate);
            yield return farthest.Drift == 1.0
                ? $"{name}: the best learning rate stays at {start} at every shape."
                : string.Create(CultureInfo.InvariantCulture,
                    $"{name}: the best learning rate moves from {start} at the base shape to {ScaledValue.Format(farthest.Best.LearningRate)} ({Ratio(farthest.Drift!.Value)}) at width {farthest.Width}, depth {farthest.Depth}.");
        }
    }

    private static void WriteJson(TextWriter output, string lossColumn, IReadOnlyList<SweepOptimum> optima)
    {
        var document = new
        {
            loss = lossColumn,
            optima = optima.Select(o => new
            {
                parameterization = o.Parameterization,
                width = o.Width,
                depth = o.Depth,
                baseWidth = o.BaseWidth,
                baseDepth = o.BaseDepth,
                bestLearningRate = o.Best.LearningRate,
                loss = Finite(o.Best.Loss),
                seeds = o.Best.Seeds,
                atGridEdge = o.AtGridEdge,
                drift = o.Drift,
                lossAtBaseOptimum = o.LossAtBaseOptimum is { } l ? Finite(l) : null,
                curve = o.Curve.Select(p => new { learningRate = p.LearningRate, loss = Finite(p.Loss), seeds = p.Seeds }),
            }),
        };
        output.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>A loss for JSON, which has no infinity: a diverged run is null.</summary>
    private static double? Finite(double loss) => double.IsFinite(loss) ? loss : null;

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Loss(double value) => double.IsFinite(value) ? value.ToString("F3", CultureInfo.InvariantCulture) : "diverged";

    private static string Ratio(double value) => ScaledValue.Format(value) + "x";
}
