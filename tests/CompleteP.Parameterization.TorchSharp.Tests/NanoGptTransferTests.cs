using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>The nanoGPT sample's <c>train</c> with the batch-size and training-length transfer options.</summary>
public class NanoGptTransferTests
{
    private static readonly string[] Small =
    [
        "train", "--width", "32", "--depth", "1", "--base-width", "32", "--base-depth", "1", "--head-dim", "16", "--steps", "4", "--batch-size", "4",
        "--block-size", "16", "--eval-batches", "1", "--log-interval", "4", "--device", "cpu",
    ];

    [Fact]
    public void Train_transfers_from_the_base_runs_batch_and_length()
    {
        // 16 -> 4 x 16 = 64 tokens per step (kappa 4), 100 -> 4 steps; betas 1 - 4*(1 - 0.9) = 0.6 and 1 - 4*(1 - 0.99) = 0.96;
        // the base run's 10 warm-up steps are 10 x 0.04 = 0.4 -> 1 step here.
        var (code, output, error) = RunNanoGpt([.. Small, "--base-tokens-per-step", "16", "--base-tokens", "1600", "--warmup-steps", "10", "--tokens-per-step", "64"]);

        code.Should().Be(0, error);
        output.Should().Contain("transfer: 16 -> 64 tokens per step (kappa = 4), 100 -> 4 steps (S/S_base = 0.04)")
            .And.Contain("betas 0.6/0.96").And.Contain("warm-up 1 steps").And.Contain("final: train loss");
    }

    [Theory]
    [InlineData(new[] { "--base-tokens-per-step", "4", "--base-tokens", "400" }, "at most 39")]
    [InlineData(new[] { "--base-tokens-per-step", "16" }, "--base-tokens is missing")]
    [InlineData(new[] { "--base-tokens-per-step", "16", "--base-tokens", "1600", "--tokens", "100" }, "--tokens must equal --steps x --batch-size x --block-size = 256")]
    [InlineData(new[] { "--base-tokens-per-step", "16", "--base-tokens", "8" }, "--base-tokens: tokens must be at least tokensPerStep")]
    public void Bad_transfer_options_are_usage_errors(string[] extra, string expected)
    {
        var (code, _, error) = RunNanoGpt([.. Small, .. extra]);

        code.Should().NotBe(0);
        error.Should().Contain(expected);
    }
}
