using System.Globalization;

namespace CompleteP.Cli;

/// <summary>
/// Reads a learning-rate sweep CSV as the nanoGPT sample's <c>sweep</c> command writes it (header
/// <c>parameterization,alpha,width,depth,...,lr,seed,...,trainLoss,valLoss,diverged,seconds,device</c>);
/// columns are found by name, so their order and any extra columns do not matter, and <c>seed</c> may be absent.
/// The optional <c>batch</c>, <c>steps</c>, <c>block</c>, <c>baseTokensPerStep</c> and <c>baseTokens</c> give each run's
/// training shape and the base run the batch and length rules transferred from (empty base columns: none).
/// A run with <c>diverged=true</c> (its losses empty) is a diverged run. Older sweeps (no <c>diverged</c> column) wrote a
/// diverged run's loss as 99: in such a file, a loss of 99 or NaN is read as diverged. The optional <c>hp</c> column
/// (the run's per-module base hyperparameters) keeps runs with different values apart: a per-module search is one CSV.
/// </summary>
internal static class SweepCsv
{
    /// <summary>The columns a sweep must have besides the loss column.</summary>
    public static IReadOnlyList<string> RequiredColumns { get; } = ["parameterization", "width", "depth", "baseWidth", "baseDepth", "lr"];

    /// <summary>Reads every run of a sweep CSV.</summary>
    /// <param name="text">The CSV text.</param>
    /// <param name="lossColumn">The column holding the loss to compare (<c>valLoss</c> or <c>trainLoss</c>).</param>
    /// <param name="source">The file's name, for error messages.</param>
    /// <returns>The runs, in file order.</returns>
    /// <exception cref="ArgumentException">A column is missing, a row has the wrong number of fields, or a field is not a number.</exception>
    public static IReadOnlyList<SweepRun> Parse(string text, string lossColumn, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = lines.Count > 0 ? lines[0].Split(',').Select(h => h.Trim()).ToList() : [];
        int Column(string name) => header.IndexOf(name) is >= 0 and var i
            ? i
            : throw new ArgumentException($"csv: '{source}' has no column '{name}' (its header has {(header.Count > 0 && header[0].Length > 0 ? string.Join(", ", header) : "nothing")}).", "csv");
        int p = Column("parameterization"), w = Column("width"), d = Column("depth"), bw = Column("baseWidth"), bd = Column("baseDepth"),
            lr = Column("lr"), loss = Column(lossColumn), seed = header.IndexOf("seed"), diverged = header.IndexOf("diverged"),
            batch = header.IndexOf("batch"), steps = header.IndexOf("steps"), block = header.IndexOf("block"),
            baseTokensPerStep = header.IndexOf("baseTokensPerStep"), baseTokens = header.IndexOf("baseTokens"), hp = header.IndexOf("hp");

        var runs = new List<SweepRun>();
        for (int n = 1; n < lines.Count; n++)
        {
            if (lines[n].Trim().Length == 0)
            {
                continue;
            }

            var fields = lines[n].Split(',').Select(f => f.Trim()).ToArray();
            if (fields.Length != header.Count)
            {
                throw new ArgumentException($"csv: '{source}' line {n + 1} has {fields.Length} fields, but the header has {header.Count}.", "csv");
            }

            int Integer(int column) => int.TryParse(fields[column], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v
                : throw Bad(column, "is not an integer of at least 1");
            long Long(int column) => long.TryParse(fields[column], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v > 0
                ? v
                : throw Bad(column, "is not an integer of at least 1");
            double Number(int column) => double.TryParse(fields[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                ? v
                : throw Bad(column, "is not a number");
            ArgumentException Bad(int column, string what) =>
                new($"csv: '{source}' line {n + 1}, column {header[column]}: '{fields[column]}' {what}.", "csv");

            double rate = Number(lr);
            if (!(rate > 0) || !double.IsFinite(rate))
            {
                throw Bad(lr, "is not a learning rate (a finite number greater than 0)");
            }

            bool stopped = diverged >= 0 && fields[diverged] switch
            {
                "true" => true,
                "false" => false,
                _ => throw Bad(diverged, "is not true or false"),
            };
            double value = stopped ? double.PositiveInfinity : Number(loss);
            if (diverged < 0 && value == 99.0)
            {
                value = double.PositiveInfinity; // the old schema's stand-in for a diverged run
            }

            var training = new SweepTraining(batch >= 0 ? Integer(batch) : 0, steps >= 0 ? Integer(steps) : 0);
            SweepTraining? declaredBase = null;
            if (baseTokensPerStep >= 0 && baseTokens >= 0 && (fields[baseTokensPerStep].Length > 0 || fields[baseTokens].Length > 0))
            {
                // The base run in sequences and steps: its tokens per step over this run's sequence length (the block).
                long perStep = Long(baseTokensPerStep), total = Long(baseTokens);
                int sequence = block >= 0 ? Integer(block) : throw Bad(baseTokensPerStep, "needs a block column to be read as a batch size");
                declaredBase = perStep % sequence == 0 && total % perStep == 0
                    ? new SweepTraining((int)(perStep / sequence), (int)(total / perStep))
                    : throw Bad(baseTokens, string.Create(CultureInfo.InvariantCulture, $"is not a whole number of steps of whole sequences of {sequence} tokens (with baseTokensPerStep {perStep})"));
            }

            runs.Add(new SweepRun(fields[p], Integer(w), Integer(d), Integer(bw), Integer(bd), rate,
                seed >= 0 ? (long)Number(seed) : 0, double.IsFinite(value) ? value : double.PositiveInfinity)
            { Training = training, DeclaredBase = declaredBase, Hp = hp >= 0 ? fields[hp] : string.Empty });
        }

        return runs.Count > 0 ? runs : throw new ArgumentException($"csv: '{source}' has no runs (only a header).", "csv");
    }
}
