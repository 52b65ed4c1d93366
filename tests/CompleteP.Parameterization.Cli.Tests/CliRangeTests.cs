using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Cli;

/// <summary>
/// The tool over random command lines with extreme values (width 1, depth 10,000, widths below the base, subnormal and
/// huge hyperparameters and multipliers, fan-ins up to 2^63-1): exit 0 with JSON whose numbers are all finite, or exit 2
/// with one line naming the option to change. Seeded: the same 400 command lines every run.
/// </summary>
public sealed class CliRangeTests
{
    private static readonly string[] Doubles =
    [
        "5e-324", "1e-310", "2.2250738585072014e-308", "1e-300", "1e-12", "1e-8", "0.02", "1", "1e12", "1e300", "1.7976931348623157e308", "0", "-1", "NaN",
    ];

    private static readonly string[] Sizes = ["1", "2", "3", "64", "1000", "10000", "1048576", "2147483647", "0"];

    private static string Pick(Random random, string[] values, string ordinary) => random.Next(3) == 0 ? values[random.Next(values.Length)] : ordinary;

    [Fact]
    public void Every_command_line_gives_finite_numbers_or_a_one_line_error_naming_an_option()
    {
        var random = new Random(20250101);
        int ok = 0, refused = 0;
        for (int i = 0; i < 400; i++)
        {
            bool explain = i % 2 == 1;
            var args = new List<string>
            {
                explain ? "explain" : "plan",
                "--parameterization", new[] { "sp", "mup", "completep", "depth-mup", "alpha=0.75" }[random.Next(5)],
                "--base-width", Pick(random, Sizes, "64"), "--width", Pick(random, Sizes, "256"),
                "--base-depth", Pick(random, Sizes, "2"), "--depth", Pick(random, Sizes, "8"),
                "--head-dim", "1",
                "--lr", Pick(random, Doubles, "0.006"), "--init-std", Pick(random, Doubles, "0.02"),
                "--weight-decay", Pick(random, Doubles, "0.1"), "--eps", Pick(random, Doubles, "1e-8"),
                "--alpha-in", Pick(random, Doubles, "1"), "--alpha-out", Pick(random, Doubles, "1"), "--alpha-attn", Pick(random, Doubles, "1"),
                "--format", "json",
            };
            if (explain && random.Next(2) == 0)
            {
                args.AddRange(["hidden-weight", "--fan-in", Pick(random, ["1", "9223372036854775807", "0"], "1024"), "--base-fan-in", Pick(random, ["1", "9223372036854775807"], "256")]);
            }

            var (code, output, error) = Completep.Run([.. args]);
            string line = string.Join(' ', args);
            if (code == 0)
            {
                ok++;
                error.Should().BeEmpty(line);
                using var doc = JsonDocument.Parse(output);
                foreach (double value in Numbers(doc.RootElement))
                {
                    double.IsFinite(value).Should().BeTrue("{0} printed {1}", line, value);
                    (value == 0 || double.IsNormal(value)).Should().BeTrue("{0} printed the subnormal {1:R}", line, value);
                }
            }
            else
            {
                refused++;
                code.Should().Be(2, "{0}: {1}", line, error);
                output.Should().BeEmpty(line);
                error.TrimEnd().Should().NotContain("\n", "one line ({0})", line).And.StartWith("completep: ").And.Contain("--", "the error names the option ({0})", line);
                error.Should().NotContain("   at ", "no stack trace ({0})", line);
            }
        }

        ok.Should().BeGreaterThan(60);
        refused.Should().BeGreaterThan(60);
    }

    [Fact]
    public void An_overflowing_weight_decay_names_the_option_that_set_it()
    {
        var (code, _, error) = Completep.Run("plan", "--parameterization", "mup", "--base-width", "1", "--width", "1048576", "--base-depth", "1", "--depth", "1",
            "--head-dim", "1", "--lr", "1e-3", "--weight-decay", "1e303");
        code.Should().Be(2);
        error.Should().Contain("overflows").And.Contain("--weight-decay (hyperparameters.WeightDecay) = 1E+303");
    }

    private static IEnumerable<double> Numbers(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                yield return e.GetDouble();
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    foreach (var v in Numbers(p.Value))
                    {
                        yield return v;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                {
                    foreach (var v in Numbers(item))
                    {
                        yield return v;
                    }
                }

                break;
        }
    }

}
