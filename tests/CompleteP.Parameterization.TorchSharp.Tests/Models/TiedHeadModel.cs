using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models;

/// <summary>A tiny decoder whose head is tied as <c>head.weight = embed.weight</c>: TorchSharp then hands out two wrappers of one tensor.</summary>
public sealed class TiedHeadModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<Sequential> layers;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public TiedHeadModel(int vocab, int width, int depth) : base(nameof(TiedHeadModel))
    {
        embed = nn.Embedding(vocab, width);
        layers = new ModuleList<Sequential>(Enumerable.Range(0, depth)
            .Select(_ => nn.Sequential(("ln", nn.LayerNorm(width)), ("ff", nn.Sequential(("up", nn.Linear(width, width)), ("down", nn.Linear(width, width)))))).ToArray());
        norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
        head.weight = embed.weight!;
    }

    public override Tensor forward(Tensor idx)
    {
        var x = embed.call(idx);
        foreach (var layer in layers)
        {
            x = x + layer.call(x);
        }

        return head.call(norm.call(x));
    }
}
