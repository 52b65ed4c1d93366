using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// A GPT in the shape of public minGPT / GPT-2 ports: the embeddings module and blocks of Gpt2MatmulHead.cs, a final
// norm, and a head Linear that shares the token table (lm_head.weight = wte.weight, GPT-2's weight tying). Every child,
// the head included, is called with .forward, and so is the model itself by its training loop: no forward hook runs
// anywhere in it. Written here.

/// <summary>A GPT whose head is a Linear tied to the token table, called through <c>.forward</c> everywhere.</summary>
public sealed class TiedForwardGpt : nn.Module<Tensor, Tensor>, IHandScaled
{
    private readonly Gpt2Embeddings transformer;
    private readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;
    private readonly Linear lm_head;

    public TiedForwardGpt(int vocab, int width, int depth, int headDim = 16, int maxLength = 64) : base(nameof(TiedForwardGpt))
    {
        transformer = new Gpt2Embeddings(vocab, width, maxLength);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, depth).Select(_ => new Gpt2Block(width, headDim, Scales)).ToArray());
        ln_f = nn.LayerNorm(width);
        lm_head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
        Tie();
    }

    public HandScales Scales { get; } = new();

    /// <summary>Moving to another dtype copies each module's parameters separately: tie them again.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Tie();
    }

    private void Tie() => transformer.ShareTable(lm_head.weight!);

    public override Tensor forward(Tensor ids)
    {
        var x = Scales.Embedding * transformer.forward(ids);
        foreach (var block in h)
        {
            x = block.forward(x);
        }

        return Scales.Output * lm_head.forward(ln_f.forward(x));
    }
}
