using CompleteP.Plotting;
using CompleteP.CoordinateChecks;

namespace CompleteP.Tests.Plotting;

/// <summary>
/// Coordinate checks as they would look on a GPT: under SP the hidden and output activations grow with
/// width (about width^0.5 after a few steps); under completep everything is flat in width and depth;
/// under mup flat in width, growing with depth. A width sweep at depth 4 and a depth sweep at width 128.
/// </summary>
public static class Synthetic
{
    public static readonly int[] Widths = [64, 128, 256, 512, 1024];
    public static readonly int[] Depths = [2, 4, 8, 16];
    public const int BaseDepth = 4;
    public const int BaseWidth = 128;

    public static IEnumerable<(int Width, int Depth)> Shapes()
    {
        foreach (int w in Widths)
        {
            yield return (w, BaseDepth);
        }

        foreach (int d in Depths.Where(d => d != BaseDepth))
        {
            yield return (BaseWidth, d);
        }
    }

    /// <summary>Module names in forward (hook) order, with kind and block index as CoordinateCheck records them.</summary>
    public static IEnumerable<(string Module, string Kind, int Block)> Modules(int depth)
    {
        yield return ("transformer.wte", "input", -1);
        yield return ("transformer.wpe", "input", -1);
        for (int b = 0; b < depth; b++)
        {
            yield return ($"transformer.h.{b}.attn", "branch", b);
            yield return ($"transformer.h.{b}.mlp", "branch", b);
            yield return ($"transformer.h.{b}", "block", b);
        }

        yield return ("transformer.ln_f", "finalNorm", -1);
        yield return ("lm_head", "readout", -1);
    }

    public static List<CoordinateMeasurement> Coordinates(
        string[]? parameterizations = null, int steps = 10, int[]? seeds = null, bool withKinds = true)
    {
        parameterizations ??= ["sp", "completep"];
        seeds ??= [0, 1];
        var rows = new List<CoordinateMeasurement>();
        foreach (var p in parameterizations)
        {
            foreach (var (width, depth) in Shapes())
            {
                foreach (int seed in seeds)
                {
                    var random = new Random(HashCode.Combine(p, width, depth, seed));
                    for (int step = 1; step <= steps; step++)
                    {
                        foreach (var (module, kind, block) in Modules(depth))
                        {
                            double rms = Rms(p, module, kind, block, width, depth, step) * (1 + (0.04 * (random.NextDouble() - 0.5)));
                            double delta = step == 1 ? 0 : rms * 0.1 * Math.Sqrt(step - 1) * Growth(p, kind, width, depth);
                            rows.Add(withKinds
                                ? new CoordinateMeasurement(p, width, depth, seed, step, module, rms * 0.8, rms, delta, Enum.Parse<ModuleKind>(kind, ignoreCase: true), block)
                                : new CoordinateMeasurement(p, width, depth, seed, step, module, rms * 0.8, rms, delta));
                        }
                    }
                }
            }
        }

        return rows;
    }

    public static List<LazinessMeasurement> Laziness(string[]? parameterizations = null, int[]? seeds = null)
    {
        parameterizations ??= ["sp", "mup", "depth-mup", "completep"];
        seeds ??= [0, 1];
        var rows = new List<LazinessMeasurement>();
        foreach (var p in parameterizations)
        {
            // Relative nonlinearity ~ L^(alpha - 1): depth-mup lazier with depth, completep not.
            double slope = p switch { "completep" => 0.0, "depth-mup" => -0.5, "mup" or "sp" => -1.0, _ => -0.25 };
            double level = p switch { "sp" => 0.9, "mup" => 0.6, "depth-mup" => 0.35, _ => 0.2 };
            foreach (int depth in Depths)
            {
                foreach (int seed in seeds)
                {
                    var random = new Random(HashCode.Combine(p, depth, seed));
                    for (int b = 0; b < depth; b++)
                    {
                        double linear = 1 + random.NextDouble();
                        double relative = level * Math.Pow(depth / 2.0, slope) * (1 + (0.1 * (random.NextDouble() - 0.5)));
                        rows.Add(new LazinessMeasurement(p, BaseWidth, depth, seed, $"transformer.h.{b}", b, relative * linear, linear));
                    }
                }
            }
        }

        return rows;
    }

    private static double Rms(string p, string module, string kind, int block, int width, int depth, int step)
    {
        double baseLevel = kind switch
        {
            "input" => module.EndsWith("wpe", StringComparison.Ordinal) ? 0.02 : 0.05,
            "branch" => module.EndsWith("attn", StringComparison.Ordinal) ? 0.3 : 0.5,
            "block" => 0.8 + (0.2 * block / Math.Max(1.0, depth - 1)),
            "finalNorm" => 1.0,
            _ => 0.4,
        };
        double t = (step - 1) / 9.0;
        double widthGrowth = p == "sp" && kind != "finalNorm" ? Math.Pow(width / 64.0, 0.5 * t * (kind == "input" ? 0.3 : 1)) : 1;
        double depthGrowth = p is "sp" or "mup" && kind == "block" ? Math.Pow(depth / 2.0, 0.5) : 1;
        return baseLevel * widthGrowth * depthGrowth * (1 + (0.3 * t));
    }

    private static double Growth(string p, string kind, int width, int depth) =>
        p == "sp" && kind != "finalNorm" ? Math.Pow(width / 64.0, 0.5) : 1;
}
