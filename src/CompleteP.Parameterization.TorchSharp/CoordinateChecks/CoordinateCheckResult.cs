using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CompleteP.CoordinateChecks;

/// <summary>Every measurement of a coordinate check (and of a laziness check, when run), with their CSV and JSON forms.</summary>
/// <param name="Measurements">The coordinate measurements.</param>
/// <param name="Laziness">The laziness measurements; empty when that check did not run.</param>
public sealed record CoordinateCheckResult(IReadOnlyList<CoordinateMeasurement> Measurements, IReadOnlyList<LazinessMeasurement> Laziness)
{
    /// <summary>The verdicts of the measurements.</summary>
    /// <param name="metric">The metric whose slopes to fit. Default RMS.</param>
    /// <param name="tolerance">How far a slope may stray from its expected exponent. Default 0.25.</param>
    /// <param name="minVerdictWidth">Judge the width sweep from this width up; null (the default) judges every width.</param>
    /// <returns>The report.</returns>
    public CoordinateCheckReport Report(CoordinateMetric metric = CoordinateMetric.Rms, double tolerance = CoordinateCheckReport.Tolerance, int? minVerdictWidth = null) =>
        CoordinateCheckReport.Analyze(Measurements, Laziness, metric, tolerance, minVerdictWidth);

    /// <summary>The coordinate measurements as CSV (header <see cref="CoordinateMeasurement.CsvHeader"/>).</summary>
    /// <returns>The CSV text.</returns>
    public string ToCsv()
    {
        var sb = new StringBuilder(CoordinateMeasurement.CsvHeader).Append('\n');
        foreach (var m in Measurements)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Parameterization},{m.Width},{m.Depth},{m.Seed},{m.Step},{m.Module},{R(m.MeanAbs)},{R(m.Rms)},{R(m.DeltaRms)},{KindName(m.Kind)},{m.BlockIndex}\n");
        }

        return sb.ToString();
    }

    /// <summary>The laziness measurements as CSV (header <see cref="LazinessMeasurement.CsvHeader"/>).</summary>
    /// <returns>The CSV text.</returns>
    public string LazinessToCsv()
    {
        var sb = new StringBuilder(LazinessMeasurement.CsvHeader).Append('\n');
        foreach (var m in Laziness)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Parameterization},{m.Width},{m.Depth},{m.Seed},{m.Branch},{m.BlockIndex},{R(m.NonlinearChange)},{R(m.LinearChange)},{R(m.RelativeNonlinearity)}\n");
        }

        return sb.ToString();
    }

    /// <summary>Every measurement as one JSON object with <c>measurements</c> and <c>laziness</c> arrays.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(
        new { measurements = Measurements, laziness = Laziness },
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = false, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } });

    /// <summary>Reads the CSV written by <see cref="ToCsv"/>.</summary>
    /// <param name="csv">The CSV text.</param>
    /// <returns>The measurements.</returns>
    /// <exception cref="FormatException">A line does not have the expected columns.</exception>
    public static IReadOnlyList<CoordinateMeasurement> ParseCsv(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || !lines[0].StartsWith("parameterization,width,depth,seed,step,module,meanAbs,rms,deltaRms", StringComparison.Ordinal))
        {
            throw new FormatException("The CSV does not start with the coordinate-check header.");
        }

        return lines.Skip(1).Select((line, i) =>
        {
            var c = line.Split(',');
            if (c.Length < 9)
            {
                throw new FormatException($"Line {i + 2} has {c.Length} columns, expected at least 9.");
            }

            static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
            static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
            return new CoordinateMeasurement(c[0], I(c[1]), I(c[2]), I(c[3]), I(c[4]), c[5], D(c[6]), D(c[7]), D(c[8]),
                c.Length > 9 ? ParseKind(c[9], i + 2) : ModuleKind.Other, c.Length > 10 ? I(c[10]) : -1);
        }).ToList();
    }

    /// <summary>A kind as the CSV writes it: camelCase (<c>finalNorm</c>, <c>residualStream</c>).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its name.</returns>
    internal static string KindName(ModuleKind kind) => JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    private static ModuleKind ParseKind(string text, int line) =>
        Enum.GetValues<ModuleKind>().Cast<ModuleKind?>().FirstOrDefault(k => KindName(k!.Value) == text)
        ?? throw new FormatException($"Line {line} has the module kind '{text}'; kinds are {string.Join(", ", Enum.GetValues<ModuleKind>().Select(KindName))}.");

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Value equality, the measurements compared element by element.</summary>
    /// <param name="other">The other result.</param>
    /// <returns>True when both hold the same measurements in the same order.</returns>
    public bool Equals(CoordinateCheckResult? other) =>
        other is not null && Measurements.SequenceEqual(other.Measurements) && Laziness.SequenceEqual(other.Laziness);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Measurements.Count, Laziness.Count);
}
