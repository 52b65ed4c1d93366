using System.Globalization;
using CompleteP.CoordinateChecks;

namespace CompleteP.Plotting.Internal;

/// <summary>A module as a figure shows it.</summary>
/// <param name="Name">The name shown (in depth sweeps, the normalized name).</param>
/// <param name="Order">The order of first appearance in the sweep's rows.</param>
/// <param name="Block">The block index; -1 outside the blocks; <see cref="int.MaxValue"/> for a depth sweep's last block.</param>
/// <param name="IsBlockOutput">True for a block's own output (the residual stream after it).</param>
/// <param name="Kind">The measured kind.</param>
internal sealed record ModuleEntry(string Name, int Order, int Block, bool IsBlockOutput, ModuleKind Kind);

/// <summary>One measurement of a sweep, under the name the figure shows.</summary>
internal readonly record struct SweepPoint(string Parameterization, int Size, int Step, string Module, double Value);

/// <summary>Choosing a sweep's rows, steps and modules, and averaging over seeds.</summary>
internal static class Sweeps
{
    /// <summary>The most modules a figure draws.</summary>
    public const int MaxModules = 12;

    /// <summary>The most step columns a figure has by default.</summary>
    public const int MaxDefaultSteps = 4;

    /// <summary>
    /// The fixed size of a sweep: for a width sweep, the depth with the most rows among depths measured
    /// at two or more widths (ties: the one seen first); for a depth sweep, likewise the width. Null when
    /// the data has no such sweep.
    /// </summary>
    public static int? FixedSize(IReadOnlyList<CoordinateMeasurement> rows, SweepAxis axis)
    {
        Func<CoordinateMeasurement, int> varied = axis == SweepAxis.Width ? r => r.Width : r => r.Depth;
        Func<CoordinateMeasurement, int> held = axis == SweepAxis.Width ? r => r.Depth : r => r.Width;
        var best = rows
            .Select((r, i) => (Row: r, Index: i))
            .GroupBy(x => held(x.Row))
            .Where(g => g.Select(x => varied(x.Row)).Distinct().Count() >= 2)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.First().Index)
            .FirstOrDefault();
        return best?.Key;
    }

    /// <summary>The sweep's rows at <paramref name="fixedSize"/>, under the names the figure shows, and the modules they name.</summary>
    public static (List<SweepPoint> Points, List<ModuleEntry> Modules) Points(
        IReadOnlyList<CoordinateMeasurement> rows, SweepAxis axis, int fixedSize, CoordinateMetric metric)
    {
        var points = new List<SweepPoint>();
        var modules = new Dictionary<string, ModuleEntry>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if ((axis == SweepAxis.Width ? row.Depth : row.Width) != fixedSize)
            {
                continue;
            }

            var at = ModuleNames.Locate(row);
            var names = axis == SweepAxis.Width ? [row.Module] : ModuleNames.DepthSweepNames(row).ToList();
            for (int i = 0; i < names.Count; i++)
            {
                string name = names[i];
                if (!modules.ContainsKey(name))
                {
                    int block = !at.InBlock ? -1
                        : axis == SweepAxis.Depth && (at.Index != 0 || i == 1) ? int.MaxValue
                        : at.Index;
                    bool output = at.InBlock && (at.Rest.Length == 0 || row.Kind == ModuleKind.Block);
                    modules[name] = new ModuleEntry(name, modules.Count, block, output, row.Kind);
                }

                points.Add(new SweepPoint(row.Parameterization, axis == SweepAxis.Width ? row.Width : row.Depth, row.Step, name, row.Value(metric)));
            }
        }

        return (points, modules.Values.OrderBy(m => m.Order).ToList());
    }

    /// <summary>
    /// The steps drawn by default: all when at most four, otherwise the first, the last and two spread
    /// evenly between. For <see cref="CoordinateMetric.DeltaRms"/>, step 1 (whose change is zero by
    /// definition) is left out when later steps exist.
    /// </summary>
    public static List<int> DefaultSteps(IEnumerable<int> present, CoordinateMetric metric)
    {
        var steps = present.Distinct().Order().ToList();
        if (metric == CoordinateMetric.DeltaRms && steps.Count > 1 && steps[0] <= 1)
        {
            steps.RemoveAt(0);
        }

        if (steps.Count <= MaxDefaultSteps)
        {
            return steps;
        }

        return Enumerable.Range(0, MaxDefaultSteps)
            .Select(i => steps[(int)Math.Round(i * (steps.Count - 1) / (double)(MaxDefaultSteps - 1))])
            .Distinct()
            .ToList();
    }

    /// <summary>Checks caller-given steps against those the sweep has.</summary>
    public static List<int> CheckSteps(IReadOnlyList<int> steps, IEnumerable<int> present, string parameterName)
    {
        if (steps.Count == 0)
        {
            throw new ArgumentException("steps must name at least one step (or be null for the default choice).", parameterName);
        }

        var available = present.Distinct().Order().ToList();
        var missing = steps.Where(s => !available.Contains(s)).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"steps names step(s) {Join(missing)} that the sweep does not have; it has steps {Join(available)}.", parameterName);
        }

        return steps.Distinct().ToList();
    }

    /// <summary>
    /// At most <see cref="MaxModules"/> modules: all when few enough, otherwise a representative set:
    /// the embeddings and readout, the outputs of the first, last and middle blocks, the final norm and
    /// other modules outside the blocks, then the first and last blocks' branches, the middle block's,
    /// then the rest; drawn in model order.
    /// </summary>
    public static List<ModuleEntry> Representative(IReadOnlyList<ModuleEntry> modules)
    {
        if (modules.Count <= MaxModules)
        {
            return [.. modules];
        }

        var blocks = modules.Where(m => m.Block >= 0).Select(m => m.Block).Distinct().Order().ToList();
        int first = blocks.Count > 0 ? blocks[0] : -2;
        int last = blocks.Count > 0 ? blocks[^1] : -2;
        int middle = blocks.Count >= 3 ? blocks[blocks.Count / 2] : -2;

        int Tier(ModuleEntry m)
        {
            if (m.Block < 0)
            {
                return IsEdge(m) ? 0 : 3;
            }

            bool key = m.Block == first || m.Block == last, mid = m.Block == middle;
            if (m.IsBlockOutput)
            {
                return key ? 1 : mid ? 2 : 6;
            }

            return key ? 4 : mid ? 5 : 7;
        }

        return modules.OrderBy(Tier).ThenBy(m => m.Order).Take(MaxModules).OrderBy(m => m.Order).ToList();
    }

    /// <summary>The mean over seeds (and repeated rows) per size, of one module, keeping finite positive means.</summary>
    public static (double[] Sizes, double[] Values) Average(IEnumerable<SweepPoint> points)
    {
        var means = points
            .GroupBy(p => p.Size)
            .Select(g => (Size: g.Key, Mean: g.Average(p => p.Value)))
            .Where(x => double.IsFinite(x.Mean) && x.Mean > 0)
            .OrderBy(x => x.Size)
            .ToList();
        return ([.. means.Select(x => (double)x.Size)], [.. means.Select(x => x.Mean)]);
    }

    public static string Join(IEnumerable<int> values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    private static bool IsEdge(ModuleEntry m)
    {
        if (m.Kind is ModuleKind.Input or ModuleKind.Readout)
        {
            return true;
        }

        if (m.Kind != ModuleKind.Other)
        {
            return false;
        }

        string leaf = m.Name[(m.Name.LastIndexOf('.') + 1)..].ToLowerInvariant();
        string[] hints = ["emb", "wte", "wpe", "tok", "pos", "head", "readout", "unembed", "logits", "lm_"];
        return hints.Any(h => leaf.Contains(h, StringComparison.Ordinal));
    }
}
