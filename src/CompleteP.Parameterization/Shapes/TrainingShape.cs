namespace CompleteP;

/// <summary>
/// The size of a training run beside the model's shape: the tokens of one optimizer step (the batch size
/// <c>B</c>, in tokens: sequences times sequence length, over every device) and the tokens of the whole run
/// (<c>D</c>). The number of steps is <c>S = D / B</c>.
/// </summary>
public sealed record TrainingShape
{
    /// <summary>Creates a training shape.</summary>
    /// <param name="tokensPerStep">The tokens of one optimizer step, <c>B</c>; at least 1.</param>
    /// <param name="tokens">The tokens of the whole run, <c>D</c>; at least <paramref name="tokensPerStep"/> (one step).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is zero or negative, or the run is shorter than one step.</exception>
    public TrainingShape(long tokensPerStep, long tokens)
    {
        Guard.Positive(tokensPerStep, nameof(tokensPerStep));
        Guard.Positive(tokens, nameof(tokens));
        if (tokens < tokensPerStep)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens,
                $"tokens must be at least tokensPerStep ({tokensPerStep}: one step; valid range: {tokensPerStep} and above), but was {tokens}.");
        }

        TokensPerStep = tokensPerStep;
        Tokens = tokens;
    }

    /// <summary>The tokens of one optimizer step, <c>B</c>.</summary>
    public long TokensPerStep { get; }

    /// <summary>The tokens of the whole run, <c>D</c>.</summary>
    public long Tokens { get; }

    /// <summary>The number of optimizer steps, <c>S = D / B</c> (not rounded).</summary>
    public double Steps => (double)Tokens / TokensPerStep;

    /// <inheritdoc />
    public override string ToString() => $"{TokensPerStep} tokens per step, {Tokens} tokens ({Guard.Short(Steps)} steps)";
}
