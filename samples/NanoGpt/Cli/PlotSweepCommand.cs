using System.CommandLine;
using System.Globalization;
using CompleteP.Plotting;

namespace NanoGpt.Cli;

/// <summary>
/// <c>plot-sweep</c>: draws a learning-rate sweep CSV (as written by <c>sweep</c>: columns parameterization,
/// width, depth, lr, trainLoss, valLoss, ...) as one panel per parameterization, loss against learning rate, one line per model size.
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
            int p = Column("parameterization"), w = Column("width"), d = Column("depth"), lr = Column("lr"), l = Column(r.GetValue(loss)!);
            // A diverged run (diverged=true, empty losses) has no point to draw.
            var points = lines.Skip(1).Select(line => line.Split(',')).Where(c => c[l].Length > 0).Select(c => new LearningRatePoint(c[p],
                int.Parse(c[w], CultureInfo.InvariantCulture), int.Parse(c[d], CultureInfo.InvariantCulture),
                double.Parse(c[lr], CultureInfo.InvariantCulture), double.Parse(c[l], CultureInfo.InvariantCulture))).ToList();
            LearningRateSweepPlot.Save(points, r.GetValue(png)!, r.GetValue(loss) == "trainLoss" ? "train loss" : "validation loss");
            foreach (var g in points.GroupBy(x => (x.Parameterization, x.Width, x.Depth)))
            {
                var best = g.MinBy(x => x.Loss)!;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key.Parameterization} width {g.Key.Width} depth {g.Key.Depth}: best lr {best.LearningRate:G3} (loss {best.Loss:F3})"));
            }

            output.WriteLine($"wrote {r.GetValue(png)}");
            return 0;
        });
        return command;
    }
}
