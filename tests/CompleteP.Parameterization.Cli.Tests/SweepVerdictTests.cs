using System.Globalization;
using System.Text.Json;
using CompleteP.Cli;
using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Cli.Completep;

namespace CompleteP.Tests.Cli;

/// <summary>analyze-sweep's parabola, standard errors and verdicts on sweeps whose answers are known by construction.</summary>
public class SweepVerdictTests
{
    private const string Header = "parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead,trainLoss,valLoss,diverged,seconds,device";

    /// <summary>Seed s at grid point i is off by Noise[(s + i) % 3]: the seed means are exact, the seeds spread.</summary>
    private static readonly double[] Noise = [0.02, -0.02, 0];

    /// <summary>
    /// Rows of one shape: lr 2^-10 .. 2^-4 (whole octaves), loss 2 + curvature (log2 lr - center)^2 plus the seed noise;
    /// <paramref name="diverge"/> marks (seed, log2 lr) runs as diverged.
    /// </summary>
    private static IEnumerable<string> Shape(string p, int depth, double center, double curvature, int seeds = 3, (int Seed, int Log2Lr)? diverge = null) =>
        from s in Enumerable.Range(1, seeds)
        from i in Enumerable.Range(0, 7)
        let x = -10 + i
        let loss = 2 + curvature * (x - center) * (x - center) + Noise[(s + i) % 3]
        let diverged = diverge == (s, x)
        select string.Create(CultureInfo.InvariantCulture,
            $"{p},,64,{depth},64,2,16,{Math.Pow(2, x):R},{s},300,16,64,constant,0,0.9,0.95,1E-12,0.1,1,false,true,{(diverged ? "" : loss.ToString("R", CultureInfo.InvariantCulture))},{(diverged ? "" : loss.ToString("R", CultureInfo.InvariantCulture))},{(diverged ? "true" : "false")},1.0,cpu");

    private static List<JsonElement> Analyze(IEnumerable<string> rows)
    {
        string path = Path.Combine(Path.GetTempPath(), $"completep-verdicts-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, rows.Prepend(Header));
        try
        {
            var (code, output, error) = Run("analyze-sweep", path, "--format", "json");
            code.Should().Be(0, error);
            using var doc = JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("optima").EnumerateArray().Select(e => e.Clone()).ToList();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static JsonElement At(List<JsonElement> optima, string p, int depth) =>
        optima.Single(o => o.GetProperty("parameterization").GetString() == p && o.GetProperty("depth").GetInt32() == depth);

    [Theory]
    [InlineData(0, 1.5625, 1, 0.0625, 2, 0.5625, 1.25)] // y = (x - 1.25)^2, evenly spaced
    [InlineData(0, 1.5625, 1, 0.0625, 3, 3.0625, 1.25)] // the same parabola, unevenly spaced
    [InlineData(-9, 3, -8, 1, -7, 3, -8)] // symmetric: the middle point
    [InlineData(0, 1, 1, 1, 2, 1, 1)] // flat: the middle point
    public void The_parabola_vertex_is_the_hand_computed_one(double x0, double y0, double x1, double y1, double x2, double y2, double expected) =>
        SweepAnalysis.Vertex(x0, y0, x1, y1, x2, y2).Should().BeApproximately(expected, 1e-12);

    [Fact]
    public void The_fitted_optimum_interpolates_between_grid_points()
    {
        // Seed means 2 + 0.05 (x + 7.25)^2 on whole octaves: best grid point 2^-7, parabola vertex 2^-7.25.
        var only = Analyze(Shape("mup", 2, -7.25, 0.05)).Should().ContainSingle().Subject;

        only.GetProperty("bestGridLearningRate").GetDouble().Should().Be(Math.Pow(2, -7));
        Math.Log2(only.GetProperty("bestLearningRate").GetDouble()).Should().BeApproximately(-7.25, 1e-9);
        only.GetProperty("loss").GetDouble().Should().BeApproximately(2 + (0.05 * 0.0625), 1e-12);
        // Seeds at 2^-7 (i = 3) are off by +0.02 (s = 2), -0.02 (s = 3), 0 (s = 1): sd 0.02, standard error 0.02 / sqrt(3).
        only.GetProperty("standardError").GetDouble().Should().BeApproximately(0.02 / Math.Sqrt(3), 1e-12);
        only.GetProperty("seeds").GetInt32().Should().Be(3);
    }

    [Fact]
    public void Each_verdict_comes_from_the_case_it_names()
    {
        var optima = Analyze(
            Shape("mup", 2, -7, 0.05)                     // the base shape
            .Concat(Shape("mup", 4, -7.2, 0.05))            // moved 0.2 octave: transfers
            .Concat(Shape("mup", 8, -5, 0.05))              // moved 2 octaves, regret 4 x 0.05 = 0.2 against a standard error of 0.02: drifts
            .Concat(Shape("mup", 16, -5, 0.001))            // moved 2 octaves, regret 0.004 against 0.02: cannot tell
            .Concat(Shape("mup", 32, -12, 0.05)));          // optimum below the grid: on its edge

        At(optima, "mup", 2).GetProperty("verdict").ValueKind.Should().Be(JsonValueKind.Null);
        var transfers = At(optima, "mup", 4);
        transfers.GetProperty("verdict").GetString().Should().Be("transfers");
        transfers.GetProperty("drift").GetDouble().Should().BeApproximately(-0.2, 1e-9);
        transfers.GetProperty("regret").GetDouble().Should().Be(0, "the same grid point is best");

        var drifts = At(optima, "mup", 8);
        drifts.GetProperty("verdict").GetString().Should().Be("drifts");
        drifts.GetProperty("drift").GetDouble().Should().BeApproximately(2, 1e-9);
        drifts.GetProperty("regret").GetDouble().Should().BeApproximately(0.2, 1e-9);
        // Per-seed differences between 2^-7 (i = 3) and 2^-5 (i = 5): 0.2 + (0.02, -0.04, 0.02): sd sqrt(0.0012), se 0.02.
        drifts.GetProperty("regretStandardError").GetDouble().Should().BeApproximately(0.02, 1e-9);

        var flat = At(optima, "mup", 16);
        flat.GetProperty("verdict").GetString().Should().Be("inconclusive");
        flat.GetProperty("reason").GetString().Should().Be("regret within 2 standard errors of zero");
        flat.GetProperty("regret").GetDouble().Should().BeApproximately(0.004, 1e-9);

        var edge = At(optima, "mup", 32);
        edge.GetProperty("verdict").GetString().Should().Be("inconclusive");
        edge.GetProperty("reason").GetString().Should().Be("optimum at the lowest lr tried");
        edge.GetProperty("atGridEdge").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void Fewer_than_3_seeds_is_inconclusive_however_clear_the_drift()
    {
        var optima = Analyze(Shape("sp", 2, -7, 0.05, seeds: 2).Concat(Shape("sp", 8, -5, 0.5, seeds: 2)));

        var deep = At(optima, "sp", 8);
        deep.GetProperty("verdict").GetString().Should().Be("inconclusive");
        deep.GetProperty("reason").GetString().Should().Be("fewer than 3 seeds (2)");
        deep.GetProperty("drift").GetDouble().Should().BeApproximately(2, 0.1, "two seeds do not cancel the noise");
    }

    [Fact]
    public void A_seed_that_reached_only_part_of_a_curve_does_not_count()
    {
        // Seed 3 has run only the first four learning rates at depth 8 (a sweep stopped part-way): 2 seeds count.
        var optima = Analyze(Shape("mup", 2, -7, 0.05).Concat(Shape("mup", 8, -7, 0.05).Where(row => !row.Contains(",3,300,", StringComparison.Ordinal)
            || row.Split(',')[7] is "0.0009765625" or "0.001953125" or "0.00390625" or "0.0078125")));

        var deep = At(optima, "mup", 8);
        deep.GetProperty("seeds").GetInt32().Should().Be(3, "the best point, 2^-7, has all three");
        deep.GetProperty("reason").GetString().Should().Be("fewer than 3 seeds (2)");
    }

    [Fact]
    public void A_shape_with_fewer_than_3_learning_rates_is_inconclusive()
    {
        // A sweep stopped part-way: depth 8 has only its first two learning rates.
        var optima = Analyze(Shape("mup", 2, -7, 0.05).Concat(Shape("mup", 8, -7, 0.05).Where(row => row.Contains(",0.0009765625,", StringComparison.Ordinal) || row.Contains(",0.001953125,", StringComparison.Ordinal))));

        var deep = At(optima, "mup", 8);
        deep.GetProperty("curve").GetArrayLength().Should().Be(2);
        deep.GetProperty("verdict").GetString().Should().Be("inconclusive");
        deep.GetProperty("reason").GetString().Should().Be("fewer than 3 learning rates tried (2)");
    }

    [Fact]
    public void A_point_where_any_seed_diverged_is_diverged_and_never_averaged_in()
    {
        // At depth 8, seed 1 diverges at 2^-7: without it the other two seeds would make 2^-7 the best point.
        var optima = Analyze(Shape("mup", 2, -7, 0.05).Concat(Shape("mup", 8, -7, 0.05, diverge: (1, -7))));

        var deep = At(optima, "mup", 8);
        var point = deep.GetProperty("curve")[3];
        point.GetProperty("diverged").GetBoolean().Should().BeTrue();
        point.GetProperty("loss").ValueKind.Should().Be(JsonValueKind.Null);
        point.GetProperty("seeds").GetInt32().Should().Be(3);
        deep.GetProperty("bestGridLearningRate").GetDouble().Should().NotBe(Math.Pow(2, -7));
        deep.GetProperty("verdict").GetString().Should().Be("drifts");
        deep.GetProperty("reason").GetString().Should().Be("the base shape's best lr diverges here");
        deep.GetProperty("regret").ValueKind.Should().Be(JsonValueKind.Null, "JSON has no infinity");
    }

    [Fact]
    public void Standard_error_is_the_sample_deviation_over_root_n()
    {
        SweepAnalysis.StandardError([1.0, 2.0, 3.0]).Should().BeApproximately(1 / Math.Sqrt(3), 1e-12);
        SweepAnalysis.StandardError([2.0]).Should().BeNull();
    }
}
