using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// A GPT-2 port in the shape public TorchSharp ports take: an embeddings module (wte, wpe, drop), blocks that
// register both norms before attention and MLP (ln1, ln2, attn, mlp) and call children with .forward, a fused
// c_attn, c_proj in both branches, and NO head module: the logits are matmul(x, wte.weight.T). Written here.

public sealed class Gpt2Embeddings : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly Dropout drop;

    public Gpt2Embeddings(int vocab, int width, int maxLength) : base(nameof(Gpt2Embeddings))
    {
        wte = nn.Embedding(vocab, width);
        wpe = nn.Embedding(maxLength, width);
        drop = nn.Dropout(0.0);
        RegisterComponents();
    }

    public Tensor TokenWeight => wte.weight!;

    /// <summary>Makes the token table the given Parameter (a head's weight), as GPT-2 ties its head.</summary>
    public void ShareTable(Parameter weight) => wte.weight = weight;

    public override Tensor forward(Tensor ids) =>
        drop.forward(wte.forward(ids) + wpe.forward(arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device)));
}

public sealed class Gpt2Attention : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly Dropout resid_dropout;
    private readonly int _heads;
    private readonly int _width;

    public Gpt2Attention(int width, int headDim) : base(nameof(Gpt2Attention))
    {
        _width = width;
        _heads = width / headDim;
        c_attn = nn.Linear(width, 3 * width);
        c_proj = nn.Linear(width, width);
        resid_dropout = nn.Dropout(0.0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        var qkv = c_attn.forward(x).split(_width, 2);
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _width / _heads).transpose(1, 2);
        var (q, k, v) = (Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(_width / _heads);
        var mask = ones(t, t, dtype: ScalarType.Bool, device: x.device).tril().logical_not();
        var y = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1).matmul(v).transpose(1, 2).contiguous().view(b, t, _width);
        return resid_dropout.forward(c_proj.forward(y));
    }
}

public sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;

    public Gpt2Mlp(int width) : base(nameof(Gpt2Mlp))
    {
        c_fc = nn.Linear(width, 4 * width);
        c_proj = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => c_proj.forward(nn.functional.gelu(c_fc.forward(x)));
}

public sealed class Gpt2Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly Gpt2Attention attn;
    private readonly Gpt2Mlp mlp;
    private readonly HandScales _scales;

    public Gpt2Block(int width, int headDim, HandScales scales) : base(nameof(Gpt2Block))
    {
        _scales = scales;
        ln1 = nn.LayerNorm(width);
        ln2 = nn.LayerNorm(width);
        attn = new Gpt2Attention(width, headDim);
        mlp = new Gpt2Mlp(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x + _scales.Residual * attn.forward(ln1.forward(x));
        return x + _scales.Residual * mlp.forward(ln2.forward(x));
    }
}

/// <summary>The LM: logits from the token table, <c>matmul(x, wte.weight.T)</c>, times <see cref="HandScales.Output"/> (1 as written).</summary>
public sealed class Gpt2MatmulHead : nn.Module<Tensor, Tensor>, IHandScaled
{
    private readonly Gpt2Embeddings embeddings;
    private readonly ModuleList<Gpt2Block> blocks;
    private readonly LayerNorm ln_f;

    public Gpt2MatmulHead(int vocab, int width, int depth, int headDim = 16, int maxLength = 64) : base(nameof(Gpt2MatmulHead))
    {
        embeddings = new Gpt2Embeddings(vocab, width, maxLength);
        blocks = new ModuleList<Gpt2Block>(Enumerable.Range(0, depth).Select(_ => new Gpt2Block(width, headDim, Scales)).ToArray());
        ln_f = nn.LayerNorm(width);
        RegisterComponents();
    }

    public HandScales Scales { get; } = new();

    public override Tensor forward(Tensor ids)
    {
        var x = Scales.Embedding * embeddings.forward(ids);
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }

        return Scales.Output * matmul(ln_f.forward(x), embeddings.TokenWeight.T);
    }
}
