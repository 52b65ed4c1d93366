using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// The container nanoGPT calls <c>transformer</c> (a ModuleDict there): token and position
/// embeddings <c>wte</c> and <c>wpe</c>, dropout <c>drop</c>, the blocks <c>h</c> and the final
/// norm <c>ln_f</c>. It has no forward of its own; <see cref="Gpt"/> calls its parts.
/// </summary>
public sealed class GptTransformer : nn.Module
{
    // Field names are the module names: TorchSharp registers fields by name.
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly Dropout drop;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;

    /// <summary>Creates the embeddings, blocks and final norm.</summary>
    public GptTransformer(GptConfig config) : base(nameof(GptTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.BlockSize, config.NEmbd);
        drop = nn.Dropout(config.Dropout);
        h = nn.ModuleList(Enumerable.Range(0, config.NLayer).Select(_ => new Block(config)).ToArray());
        ln_f = new LayerNorm(config.NEmbd, config.Bias);
        RegisterComponents();
    }

    /// <summary>Token embedding <c>wte</c> [vocab, N].</summary>
    public Embedding Wte => wte;

    /// <summary>Position embedding <c>wpe</c> [block, N].</summary>
    public Embedding Wpe => wpe;

    /// <summary>Embedding dropout <c>drop</c>.</summary>
    public Dropout Drop => drop;

    /// <summary>The blocks <c>h</c>.</summary>
    public ModuleList<Block> H => h;

    /// <summary>The final norm <c>ln_f</c>.</summary>
    public LayerNorm LnF => ln_f;
}
