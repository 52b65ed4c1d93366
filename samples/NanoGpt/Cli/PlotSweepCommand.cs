using System.CommandLine;
using System.Globalization;
using CompleteP.Plotting;

namespace NanoGpt.Cli;

/// <summary>
/// <c>plot-sweep</c>: draws a learning-rate sweep CSV (as written by <c>sweep</c>: columns parameterization,
/// width, depth, lr, trainLoss, valLoss, diverged, ...) as the paper's Figure 1: one panel per parameterization, loss against
/// learning rate (log2 axis), one line per model size through the seed means with standard-error bars, each optimum ringed.
/// A grid point where any seed diverged is left out.
/// </summary>
internal static class PlotSweepCommand
{
    public static Command Create(TextWriter output)
    {
        var csv = new Option<string>("--csv") { Description = "the sweep CSV", Required = true };
        var png = new Option<string>("--out") { Description = "the PNG to write", Required = true };
        var loss = new Option<string>("--loss") { Description = "valLoss (default) or trainLoss", DefaultValueFactory = _ => "valLoss" };
        loss.AcceptOnlyFromAmong("valLoss", "trainLoss");
        var command = new Command("plot-sweep", "Plot a learning-rate sweep CSV: loss against base learning rate, one panel per parameterization, one line per model size.")
        {
            csv, png, loss,
        };
        command.SetAction(r =>
        {
            string path = r.GetValue(csv)!;
            if (!File.Exists(path))
            {
                throw new UsageException($"--csv: no file '{path}'.");
            }

            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
            var header = lines[0].Split(',').ToList();
            int Column(string name) => header.IndexOf(name) is int i and >= 0 ? i : throw new UsageException($"--csv: '{path}' has no column '{name}' (has {string.Join(", ", header)}).");
            int p = Column("parameterization"), w = Column("width"), d = Column("depth"), lr = Column("lr"), l = Column(r.GetValue(loss)!), diverged = header.IndexOf("diverged");
            int batch = header.IndexOf("batch"), steps = header.IndexOf("steps"), baseRun = header.IndexOf("baseTokensPerStep"), hp = header.IndexOf("hp");

            string Field(string[] c, int column) => column >= 0 ? c[column] : string.Empty;
            int Number(string[] c, int column) => column >= 0 ? int.Parse(c[column], CultureInfo.InvariantCulture) : 0;
            var rows = lines.Skip(1).Select(line => line.Split(',')).OrderBy(c => Number(c, batch)).ThenBy(c => Number(c, steps)).ToList();

            // A batch-size or length sweep: one panel per parameterization and arm (with the batch and length rules, or
            // none: empty base columns), one curve per batch size and length.
            // A per-module search (several hp values): one curve per hp value, and one panel per model size when those vary too.
            bool batches = rows.Select(c => Field(c, batch)).Distinct().Count() > 1, lengths = rows.Select(c => Field(c, steps)).Distinct().Count() > 1,
                modules = rows.Select(c => Field(c, hp)).Distinct().Count() > 1, sizes = rows.Select(c => (c[w], c[d])).Distinct().Count() > 1;
            string Panel(string[] c) => (baseRun < 0 ? c[p] : $"{c[p]}, {(c[baseRun].Length > 0 ? "with the rule" : "no rule")}")
                + (modules && sizes ? $", {c[w]}x{c[d]}" : string.Empty);
            string? Series(string[] c) => batches || lengths || modules
                ? string.Join(", ", new[]
                {
                    batches ? $"batch {c[batch]}" : null, lengths ? $"{c[steps]} steps" : null, modules ? (c[hp].Length > 0 ? c[hp] : "no hp") : null,
                }.OfType<string>())
                : null;

            // A grid point where any seed diverged (diverged=true, empty losses; 99 in sweeps before that column) is left out whole.
            bool Diverged(string[] c) => (diverged >= 0 && c[diverged] == "true") || c[l].Length == 0 || (diverged < 0 && c[l] == "99");
            var points = rows.GroupBy(c => (Panel(c), c[w], c[d], Series(c), c[lr])).Where(g => !g.Any(Diverged)).SelectMany(g => g)
                .Select(c => new LearningRatePoint(Panel(c), int.Parse(c[w], CultureInfo.InvariantCulture), int.Parse(c[d], CultureInfo.InvariantCulture),
                    double.Parse(c[lr], CultureInfo.InvariantCulture), double.Parse(c[l], CultureInfo.InvariantCulture)) { Series = Series(c) }).ToList();
            LearningRateSweepPlot.Save(points, r.GetValue(png)!, r.GetValue(loss) == "trainLoss" ? "train loss" : "validation loss");
            foreach (var g in points.GroupBy(x => (x.Parameterization, x.Width, x.Depth, x.Series)))
            {
                var best = g.GroupBy(x => x.LearningRate).Select(x => (Rate: x.Key, Loss: x.Average(y => y.Loss), Seeds: x.Count())).MinBy(x => x.Loss);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{g.Key.Parameterization} width {g.Key.Width} depth {g.Key.Depth}{(g.Key.Series is { } series ? $" {series}" : string.Empty)}: best lr {best.Rate:G3} (loss {best.Loss:F3}, mean of {best.Seeds})"));
            }

            output.WriteLine($"wrote {r.GetValue(png)}");
            return 0;
        });
        return command;
    }
}
