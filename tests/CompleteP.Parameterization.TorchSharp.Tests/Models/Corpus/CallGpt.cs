using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// A small pre-LN GPT that invokes every child through .call (so MultiplierMode.Hooks can run on it), with a
// separate-or-tied head and an attention whose logit scale the library sets (IScaledAttention). Its forward also
// carries HandScales, which makes it the hand-written Table 1 version of itself.

public sealed class CallGptAttention : nn.Module<Tensor, Tensor>, IScaledAttention
{
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly int _heads;
    private readonly int _width;

    public CallGptAttention(int width, int headDim) : base(nameof(CallGptAttention))
    {
        _width = width;
        _heads = width / headDim;
        c_attn = nn.Linear(width, 3 * width);
        c_proj = nn.Linear(width, width);
        AttentionScale = 1.0 / Math.Sqrt(headDim);
        RegisterComponents();
    }

    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        var qkv = c_attn.call(x).split(_width, 2);
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _width / _heads).transpose(1, 2);
        var (q, k, v) = (Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        var scores = q.matmul(k.transpose(-2, -1)) * AttentionScale;
        var mask = ones(t, t, dtype: ScalarType.Bool, device: x.device).tril().logical_not();
        var y = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1).matmul(v).transpose(1, 2).contiguous().view(b, t, _width);
        return c_proj.call(y);
    }
}

public sealed class CallGptMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly GELU gelu;
    private readonly Linear c_proj;

    public CallGptMlp(int width) : base(nameof(CallGptMlp))
    {
        c_fc = nn.Linear(width, 4 * width);
        gelu = nn.GELU();
        c_proj = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => c_proj.call(gelu.call(c_fc.call(x)));
}

public sealed class CallGptBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly CallGptAttention attn;
    private readonly LayerNorm ln_2;
    private readonly CallGptMlp mlp;
    private readonly HandScales _scales;

    public CallGptBlock(int width, int headDim, HandScales scales) : base(nameof(CallGptBlock))
    {
        _scales = scales;
        ln_1 = nn.LayerNorm(width);
        attn = new CallGptAttention(width, headDim);
        ln_2 = nn.LayerNorm(width);
        mlp = new CallGptMlp(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x + _scales.Residual * attn.call(ln_1.call(x));
        return x + _scales.Residual * mlp.call(ln_2.call(x));
    }
}

/// <summary>Token and position embeddings, blocks, final norm, head (tied to the token table when asked).</summary>
public sealed class CallGpt : nn.Module<Tensor, Tensor>, IHandScaled
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<CallGptBlock> h;
    private readonly LayerNorm ln_f;
    private readonly Linear lm_head;

    private readonly bool _tie;

    public CallGpt(int vocab, int width, int depth, int headDim = 16, bool tie = false, int maxLength = 64) : base(nameof(CallGpt))
    {
        _tie = tie;
        wte = nn.Embedding(vocab, width);
        wpe = nn.Embedding(maxLength, width);
        h = new ModuleList<CallGptBlock>(Enumerable.Range(0, depth).Select(_ => new CallGptBlock(width, headDim, Scales)).ToArray());
        ln_f = nn.LayerNorm(width);
        lm_head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
        Tie();
    }

    public HandScales Scales { get; } = new();

    /// <summary>Moving to another dtype or device copies each module's parameters separately: tie them again.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Tie();
    }

    private void Tie()
    {
        if (_tie)
        {
            wte.weight = lm_head.weight;
        }
    }

    public override Tensor forward(Tensor ids)
    {
        var positions = arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device);
        var x = Scales.Embedding * (wte.call(ids) + wpe.call(positions));
        foreach (var block in h)
        {
            x = block.call(x);
        }

        return Scales.Output * lm_head.call(ln_f.call(x));
    }
}
