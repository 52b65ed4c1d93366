using System.Diagnostics;

namespace CompleteP.Benchmarks;

/// <summary>Median wall time of repeated runs, after warm-up.</summary>
internal static class Measure
{
    public static double MedianSeconds(Action run, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++)
        {
            run();
        }

        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            times.Add(sw.Elapsed.TotalSeconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Runs two measurements interleaved (A, B, A, B, ...) so drift affects both alike; returns the medians.</summary>
    public static (double A, double B) Interleaved(Action a, Action b, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++)
        {
            a();
            b();
        }

        var ta = new List<double>();
        var tb = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            ta.Add(sw.Elapsed.TotalSeconds);
            sw.Restart();
            b();
            tb.Add(sw.Elapsed.TotalSeconds);
        }

        ta.Sort();
        tb.Sort();
        return (ta[ta.Count / 2], tb[tb.Count / 2]);
    }
}
