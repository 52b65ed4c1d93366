using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models;

/// <summary>A block with a learnable per-channel gate that is neither a Linear's nor a norm's parameter.</summary>
public sealed class GatedBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Sequential mix;
    private readonly Parameter gate;

    public GatedBlock(int width) : base(nameof(GatedBlock))
    {
        norm = nn.LayerNorm(width);
        mix = nn.Sequential(("up", nn.Linear(width, 2 * width)), ("act", nn.GELU()), ("down", nn.Linear(2 * width, width)));
        gate = new Parameter(ones(width));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x + gate * mix.call(norm.call(x));
}

/// <summary>
/// A model inference cannot classify alone: the blocks' gates have no known role, and two Linears
/// follow the blocks (the readout and an auxiliary head).
/// </summary>
public sealed class GatedModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding input;
    private readonly ModuleList<GatedBlock> layers;
    private readonly LayerNorm final_norm;
    private readonly Linear head;
    private readonly Linear aux;

    public GatedModel(int vocab, int width, int depth) : base(nameof(GatedModel))
    {
        input = nn.Embedding(vocab, width);
        layers = new ModuleList<GatedBlock>(Enumerable.Range(0, depth).Select(_ => new GatedBlock(width)).ToArray());
        final_norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab);
        aux = nn.Linear(width, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor idx)
    {
        var x = input.call(idx);
        foreach (var layer in layers)
        {
            x = layer.call(x);
        }

        return head.call(final_norm.call(x));
    }

    public static ModelDeclarations Declarations => ModelDeclarations.None
        .Role("layers.*.gate", TensorRole.HiddenNorm)
        .Readout("head")
        .Role("aux.*", TensorRole.Unembedding);
}
