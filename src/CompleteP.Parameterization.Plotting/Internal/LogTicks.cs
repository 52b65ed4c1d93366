using System.Globalization;
using System.Text;
using ScottPlot;

namespace CompleteP.Plotting.Internal;

/// <summary>Tick marks for axes whose coordinates are logarithms (log10 for values, log2 for sizes).</summary>
internal static class LogTicks
{
    private const string SuperscriptDigits = "⁰¹²³⁴⁵⁶⁷⁸⁹";

    /// <summary>
    /// Ticks for an axis whose coordinate is <c>log10(value)</c> over [<paramref name="lo"/>, <paramref name="hi"/>]:
    /// labeled decades (<c>10⁻³</c>) with minor ticks at 2..9 times each decade, or, over less than about
    /// a decade and a half, labeled 1-2-5 (or 1..9) multiples with the others as minor ticks.
    /// </summary>
    public static Tick[] Log10(double lo, double hi)
    {
        var ticks = new List<Tick>();
        int first = (int)Math.Ceiling(lo - 1e-9), last = (int)Math.Floor(hi + 1e-9);
        int decades = last - first + 1;
        if (hi - lo >= 1.4 && decades >= 2)
        {
            int every = Math.Max(1, (int)Math.Ceiling(decades / 6.0));
            for (int d = first; d <= last; d++)
            {
                if (Mod(d, every) == 0)
                {
                    ticks.Add(Tick.Major(d, Decade(d)));
                }
                else
                {
                    ticks.Add(Tick.Minor(d));
                }
            }

            if (every == 1)
            {
                for (int d = first - 1; d <= last; d++)
                {
                    for (int k = 2; k <= 9; k++)
                    {
                        double v = d + Math.Log10(k);
                        if (v >= lo && v <= hi)
                        {
                            ticks.Add(Tick.Minor(v));
                        }
                    }
                }
            }

            return [.. ticks];
        }

        // A narrow range: label mantissas within the decades it touches.
        int[][] sets = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
        int dlo = (int)Math.Floor(lo) - 1, dhi = (int)Math.Ceiling(hi);
        foreach (var set in sets)
        {
            var majors = new List<(double Position, int Mantissa, int Decade)>();
            for (int d = dlo; d <= dhi; d++)
            {
                foreach (int k in set)
                {
                    double v = d + Math.Log10(k);
                    if (v >= lo - 1e-9 && v <= hi + 1e-9)
                    {
                        majors.Add((v, k, d));
                    }
                }
            }

            if (majors.Count >= 3 || set.Length == 9)
            {
                // Thin a crowded 1..9 set to at most 6 labels.
                int every = Math.Max(1, (int)Math.Ceiling(majors.Count / 6.0));
                for (int i = 0; i < majors.Count; i++)
                {
                    var (position, mantissa, decade) = majors[i];
                    ticks.Add(i % every == 0 || mantissa == 1 ? Tick.Major(position, Multiple(mantissa, decade)) : Tick.Minor(position));
                }

                for (int d = dlo; d <= dhi; d++)
                {
                    for (int k = 1; k <= 9; k++)
                    {
                        double v = d + Math.Log10(k);
                        if (v >= lo && v <= hi && !set.Contains(k))
                        {
                            ticks.Add(Tick.Minor(v));
                        }
                    }
                }

                break;
            }
        }

        return [.. ticks];
    }

    /// <summary>
    /// Ticks for an axis whose coordinate is <c>log2(size)</c>: one labeled tick per size present when
    /// there are at most 8, otherwise at powers of two, thinned to at most 8.
    /// </summary>
    public static Tick[] Log2(IReadOnlyCollection<int> sizes)
    {
        var distinct = sizes.Distinct().Order().ToList();
        if (distinct.Count <= 8)
        {
            return [.. distinct.Select(s => Tick.Major(Math.Log2(s), s.ToString(CultureInfo.InvariantCulture)))];
        }

        int lo = (int)Math.Floor(Math.Log2(distinct[0])), hi = (int)Math.Ceiling(Math.Log2(distinct[^1]));
        int every = Math.Max(1, (int)Math.Ceiling((hi - lo + 1) / 8.0));
        var ticks = new List<Tick>();
        for (int p = lo; p <= hi; p++)
        {
            ticks.Add((p - lo) % every == 0
                ? Tick.Major(p, Math.Pow(2, p).ToString("0", CultureInfo.InvariantCulture))
                : Tick.Minor(p));
        }

        return [.. ticks];
    }

    /// <summary><c>10</c> with a superscript exponent.</summary>
    public static string Decade(int exponent) => "10" + Superscript(exponent);

    /// <summary>A readable label for <c>mantissa × 10^decade</c>.</summary>
    public static string Multiple(int mantissa, int decade)
    {
        if (decade >= -3 && decade <= 3)
        {
            return (mantissa * Math.Pow(10, decade)).ToString("0.####", CultureInfo.InvariantCulture);
        }

        return mantissa == 1 ? Decade(decade) : mantissa.ToString(CultureInfo.InvariantCulture) + "×" + Decade(decade);
    }

    /// <summary>An integer written in Unicode superscript digits.</summary>
    public static string Superscript(int value)
    {
        var text = new StringBuilder();
        if (value < 0)
        {
            text.Append('⁻');
        }

        foreach (char c in Math.Abs((long)value).ToString(CultureInfo.InvariantCulture))
        {
            text.Append(SuperscriptDigits[c - '0']);
        }

        return text.ToString();
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
