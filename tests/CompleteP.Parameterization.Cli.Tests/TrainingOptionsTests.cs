using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace CompleteP.Tests.Cli;

/// <summary><c>completep plan</c> and <c>explain</c> with the batch-size and training-length options.</summary>
public class TrainingOptionsTests
{
    // CompleteP, width 128 -> 512 (m_N 4), depth 4 -> 16 (m_L 4); 8192 -> 32768 tokens per step (kappa 4), 1000 -> 4000 steps.
    private static readonly string[] Setup =
    [
        "--parameterization", "completep", "--base-width", "128", "--width", "512", "--base-depth", "4", "--depth", "16", "--head-dim", "32",
        "--lr", "0.01", "--weight-decay", "0.1", "--eps", "1e-8", "--beta1", "0.9", "--beta2", "0.95",
    ];

    private static readonly string[] Training = ["--base-tokens-per-step", "8192", "--tokens-per-step", "32768", "--base-tokens", "8192000", "--tokens", "131072000"];

    [Fact]
    public void Plan_json_gives_each_role_the_transferred_numbers_and_betas()
    {
        var (code, output, error) = Completep.Run(["plan", .. Setup, .. Training, "--format", "json"]);

        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        root.GetProperty("batchMultiplier").GetDouble().Should().Be(4);
        root.GetProperty("stepMultiplier").GetDouble().Should().Be(4);
        root.GetProperty("tokensPerStep").GetInt64().Should().Be(32768);
        root.GetProperty("baseTokens").GetInt64().Should().Be(8192000);
        var hidden = root.GetProperty("roles").GetProperty("hiddenWeight");
        hidden.GetProperty("learningRate").GetDouble().Should().BeApproximately(0.01 / 4 * 2, 1e-15);
        hidden.GetProperty("weightDecay").GetDouble().Should().BeApproximately(0.1 * 4 / 8, 1e-15);
        hidden.GetProperty("adamEpsilon").GetDouble().Should().BeApproximately(1e-8 / 16 / 2, 1e-24);
        hidden.GetProperty("beta1").GetDouble().Should().BeApproximately(0.6, 1e-12);
        hidden.GetProperty("beta2").GetDouble().Should().BeApproximately(0.8, 1e-12);
        root.GetProperty("roles").GetProperty("embedding").GetProperty("learningRate").GetDouble().Should().BeApproximately(0.02, 1e-15);
        root.GetProperty("warnings").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void Plan_json_without_the_token_options_keeps_the_numbers_and_lists_the_base_betas()
    {
        var (code, output, error) = Completep.Run(["plan", .. Setup, "--format", "json"]);

        code.Should().Be(0, error);
        using var doc = JsonDocument.Parse(output);
        doc.RootElement.GetProperty("batchMultiplier").ValueKind.Should().Be(JsonValueKind.Null);
        var hidden = doc.RootElement.GetProperty("roles").GetProperty("hiddenWeight");
        hidden.GetProperty("learningRate").GetDouble().Should().Be(0.01 / 4);
        hidden.GetProperty("beta1").GetDouble().Should().Be(0.9);
        hidden.GetProperty("beta2").GetDouble().Should().Be(0.95);
        var (_, defaults, _) = Completep.Run(["plan", .. Setup[..^4], "--format", "json"]);
        using var d = JsonDocument.Parse(defaults);
        d.RootElement.GetProperty("roles").GetProperty("embedding").GetProperty("beta2").GetDouble().Should().Be(0.999, "PyTorch's default");
    }

    [Fact]
    public void Plan_table_shows_sqrt_kappa_the_timescale_factors_and_the_betas()
    {
        var (code, output, error) = Completep.Run(["plan", .. Setup, .. Training, "--timescale-exponent", "-0.5"]);

        code.Should().Be(0, error);
        output.Should().Contain("eta * m_N^-1 * m_L^(alpha-1) * sqrt(kappa)")
            .And.Contain("lambda * m_N^1 / sqrt(kappa) * (S_base/S) * (TPP/TPP_base)^-m")
            .And.Contain("1 - kappa*(1 - beta1)")
            .And.Contain("kappa = 4");
    }

    [Fact]
    public void A_low_beta_is_a_warning_and_a_batch_the_rule_cannot_reach_is_refused_naming_its_limit()
    {
        var (code, output, error) = Completep.Run(["plan", .. Setup, "--base-tokens-per-step", "1024", "--tokens-per-step", "8192", "--base-tokens", "1024000", "--tokens", "8192000"]);
        code.Should().Be(0, error);
        output.Should().Contain("warning: (beta1)").And.Contain("below 0.5");

        (code, _, error) = Completep.Run(["plan", .. Setup, "--base-tokens-per-step", "1000", "--tokens-per-step", "10000", "--base-tokens", "1000000", "--tokens", "10000000"]);
        code.Should().NotBe(0);
        error.Should().Contain("--tokens-per-step").And.Contain("at most 9999").And.Contain("--beta1 (hyperparameters.Beta1)");
    }

    [Theory]
    [InlineData(new[] { "--tokens-per-step", "4096" }, "--base-tokens-per-step is missing")]
    [InlineData(new[] { "--base-tokens-per-step", "10", "--tokens-per-step", "10", "--base-tokens", "5", "--tokens", "100" }, "--base-tokens")]
    [InlineData(new[] { "--timescale-exponent", "-0.5" }, "needs --base-tokens-per-step")]
    [InlineData(new[] { "--beta1", "1" }, "--beta1")]
    public void Bad_training_options_are_refused_naming_the_option(string[] extra, string expected)
    {
        var (code, _, error) = Completep.Run(["plan", .. Setup, .. extra]);

        code.Should().NotBe(0);
        error.Should().Contain(expected);
    }

    [Fact]
    public void Explain_lists_kappa_and_the_step_counts_with_their_options()
    {
        var (code, output, error) = Completep.Run(["explain", "hidden-weight", .. Setup, .. Training, "--quantity", "weight-decay"]);

        code.Should().Be(0, error);
        output.Should().Contain("kappa").And.Contain("32768 / 8192").And.Contain("S_base").And.Contain("Batch size and training length");
    }
}
