using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models;

/// <summary>RMS norm with a gain only, as Llama's.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public RmsNorm(long dim) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6) * weight;
}

/// <summary>Causal attention with separate q, k, v, o projections and no biases.</summary>
public sealed class LlamaAttention : nn.Module<Tensor, Tensor>, IScaledAttention
{
    private readonly Linear wq, wk, wv, wo;
    private readonly int heads, headDim;

    public LlamaAttention(int width, int headDim) : base(nameof(LlamaAttention))
    {
        this.headDim = headDim;
        heads = width / headDim;
        wq = nn.Linear(width, width, hasBias: false);
        wk = nn.Linear(width, width, hasBias: false);
        wv = nn.Linear(width, width, hasBias: false);
        wo = nn.Linear(width, width, hasBias: false);
        AttentionScale = 1.0 / Math.Sqrt(headDim);
        RegisterComponents();
    }

    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        Tensor Heads(Tensor y) => y.view(b, t, heads, headDim).transpose(1, 2);
        var q = Heads(wq.call(x));
        var k = Heads(wk.call(x));
        var v = Heads(wv.call(x));
        var att = q.matmul(k.transpose(-2, -1)) * AttentionScale;
        var mask = ones(t, t, dtype: ScalarType.Bool, device: x.device).tril().logical_not();
        att = att.masked_fill(mask, double.NegativeInfinity).softmax(-1);
        return wo.call(att.matmul(v).transpose(1, 2).contiguous().view(b, t, heads * headDim));
    }
}

/// <summary>SwiGLU MLP: w2(silu(w1 x) * w3 x).</summary>
public sealed class SwiGlu : nn.Module<Tensor, Tensor>
{
    private readonly Linear w1, w2, w3;

    public SwiGlu(int width, int hidden) : base(nameof(SwiGlu))
    {
        w1 = nn.Linear(width, hidden, hasBias: false);
        w2 = nn.Linear(hidden, width, hasBias: false);
        w3 = nn.Linear(width, hidden, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => w2.call(nn.functional.silu(w1.call(x)) * w3.call(x));
}

public sealed class LlamaBlock : nn.Module<Tensor, Tensor>
{
    private readonly RmsNorm attention_norm;
    private readonly LlamaAttention attention;
    private readonly RmsNorm ffn_norm;
    private readonly SwiGlu feed_forward;

    public LlamaBlock(int width, int headDim, int hidden) : base(nameof(LlamaBlock))
    {
        attention_norm = new RmsNorm(width);
        attention = new LlamaAttention(width, headDim);
        ffn_norm = new RmsNorm(width);
        feed_forward = new SwiGlu(width, hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x + attention.call(attention_norm.call(x));
        return x + feed_forward.call(ffn_norm.call(x));
    }
}

/// <summary>A Llama-style decoder: RMS norms, SwiGLU, untied head, no biases.</summary>
public sealed class LlamaStyle : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tok_embeddings;
    private readonly ModuleList<LlamaBlock> layers;
    private readonly RmsNorm norm;
    private readonly Linear output;

    // hidden: the SwiGLU hidden size; null is 8/3 of the width rounded up to a multiple of 8.
    public LlamaStyle(int vocab, int width, int depth, int headDim, int? hidden = null) : base(nameof(LlamaStyle))
    {
        int h = hidden ?? (int)Math.Ceiling(width * 8.0 / 3 / 8) * 8;
        tok_embeddings = nn.Embedding(vocab, width);
        layers = new ModuleList<LlamaBlock>(Enumerable.Range(0, depth).Select(_ => new LlamaBlock(width, headDim, h)).ToArray());
        norm = new RmsNorm(width);
        output = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor idx)
    {
        var x = tok_embeddings.call(idx);
        foreach (var layer in layers)
        {
            x = layer.call(x);
        }

        return output.call(norm.call(x));
    }
}
