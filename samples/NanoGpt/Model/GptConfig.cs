namespace NanoGpt;

/// <summary>
/// The shape of a <see cref="Gpt"/>, as nanoGPT's <c>GPTConfig</c>; the number of heads is
/// <c>NEmbd / HeadDim</c> (the head dimension stays fixed as the width grows, as muP wants).
/// </summary>
/// <param name="VocabSize">Number of tokens.</param>
/// <param name="BlockSize">Longest sequence (context length); the size of the position table.</param>
/// <param name="NLayer">Number of transformer blocks (the depth L).</param>
/// <param name="NEmbd">Width of the residual stream (the width N, d_model).</param>
/// <param name="HeadDim">Attention head dimension d_head; must divide <paramref name="NEmbd"/>.</param>
/// <param name="Bias">Whether Linears and LayerNorms have biases.</param>
/// <param name="Dropout">Dropout probability (0 turns it off).</param>
/// <param name="TieWeights">Whether <c>lm_head.weight</c> is <c>transformer.wte.weight</c>.</param>
public sealed record GptConfig(
    int VocabSize,
    int BlockSize,
    int NLayer,
    int NEmbd,
    int HeadDim,
    bool Bias = true,
    double Dropout = 0.0,
    bool TieWeights = true)
{
    /// <summary>Number of attention heads.</summary>
    public int NHead => NEmbd / HeadDim;

    /// <summary>Throws if a size is not positive, the head dimension does not divide the width, or dropout is outside [0, 1).</summary>
    public void Validate()
    {
        Positive(VocabSize, nameof(VocabSize));
        Positive(BlockSize, nameof(BlockSize));
        Positive(NLayer, nameof(NLayer));
        Positive(NEmbd, nameof(NEmbd));
        Positive(HeadDim, nameof(HeadDim));
        if (NEmbd % HeadDim != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(HeadDim), HeadDim, $"HeadDim ({HeadDim}) must divide NEmbd ({NEmbd}).");
        }

        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must lie in [0, 1).");
        }
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1, but was {value}.");
        }
    }
}
