using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models;

/// <summary>A block of a LayerNorm and a two-Linear feed-forward residual branch.</summary>
public sealed class FfBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln;
    private readonly Sequential ff;

    public FfBlock(int width) : base(nameof(FfBlock))
    {
        ln = nn.LayerNorm(width);
        ff = nn.Sequential(("up", nn.Linear(width, 2 * width)), ("act", nn.GELU()), ("down", nn.Linear(2 * width, width)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x + ff.call(ln.call(x));
}

/// <summary>A model with a raw gain registered on the root, multiplying the final hidden state.</summary>
public sealed class RootGainModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<FfBlock> layers;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly Parameter gain;

    public RootGainModel(int vocab, int width, int depth) : base(nameof(RootGainModel))
    {
        embed = nn.Embedding(vocab, width);
        layers = new ModuleList<FfBlock>(Enumerable.Range(0, depth).Select(_ => new FfBlock(width)).ToArray());
        norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab);
        gain = new Parameter(ones(width));
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var x = embed.call(ids);
        foreach (var layer in layers)
        {
            x = layer.call(x);
        }

        return head.call(norm.call(x) * gain);
    }
}

/// <summary>Blocks registered straight on the root as block_0, block_1, ... (no container), as some ports do.</summary>
public sealed class SiblingBlocksModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly List<FfBlock> _blocks = [];

    public SiblingBlocksModel(int vocab, int width, int depth) : base(nameof(SiblingBlocksModel))
    {
        embed = nn.Embedding(vocab, width);
        for (int i = 0; i < depth; i++)
        {
            var block = new FfBlock(width);
            register_module($"block_{i}", block);
            _blocks.Add(block);
        }

        norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var x = embed.call(ids);
        foreach (var block in _blocks)
        {
            x = block.call(x);
        }

        return head.call(norm.call(x));
    }
}

/// <summary>A model with a fixed random mixing matrix held as a buffer (a Tensor field): never trained.</summary>
public sealed class MatrixBufferModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<FfBlock> layers;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly Tensor mixing;

    public MatrixBufferModel(int vocab, int width, int depth) : base(nameof(MatrixBufferModel))
    {
        embed = nn.Embedding(vocab, width);
        layers = new ModuleList<FfBlock>(Enumerable.Range(0, depth).Select(_ => new FfBlock(width)).ToArray());
        norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab);
        mixing = randn(width, width) / Math.Sqrt(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var x = embed.call(ids).matmul(mixing);
        foreach (var layer in layers)
        {
            x = layer.call(x);
        }

        return head.call(norm.call(x));
    }
}

/// <summary>A GPT whose head is tied to the token table and called through .forward (so no hook can fire on it).</summary>
public sealed class ForwardHeadGpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly ModuleList<FfBlock> h;
    private readonly LayerNorm ln_f;
    private readonly Linear head;

    public ForwardHeadGpt(int vocab, int width, int depth) : base(nameof(ForwardHeadGpt))
    {
        wte = nn.Embedding(vocab, width);
        h = new ModuleList<FfBlock>(Enumerable.Range(0, depth).Select(_ => new FfBlock(width)).ToArray());
        ln_f = nn.LayerNorm(width);
        head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
        wte.weight = head.weight;
    }

    public override Tensor forward(Tensor ids)
    {
        var x = wte.call(ids);
        foreach (var block in h)
        {
            x = block.call(x);
        }

        return head.forward(ln_f.call(x));
    }
}
