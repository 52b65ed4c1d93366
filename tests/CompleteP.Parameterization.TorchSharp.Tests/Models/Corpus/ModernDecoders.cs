using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// Decoders in the block styles people copy most today, written here as their authors write them (Hugging Face's module
// names and registration orders), small enough to train in a test: Qwen3 (QK-norm over d_head, GQA), LLaMA-3 (GQA),
// OLMo-2 (a norm on each branch's output, QK-norm over the whole width), Gemma (sandwich norms, QK-norm over d_head),
// GPT-J (parallel attention and MLP on one norm) and Mixtral (a top-2 mixture of SwiGLU experts with a router).
// Every child can be called with .forward (as ports do) or .call; the registration order of a block's children and of
// the model's top modules is a parameter, since public code registers them in every order. HandScales put Table 1's
// multipliers where the paper's forward has them: after a branch's last norm, on every expert, on the router's logits.
// Written for these tests; no public code copied.

/// <summary>The block styles of the corpus.</summary>
public enum DecoderStyle
{
    /// <summary>Qwen3: pre-norm, GQA, QK-norm over d_head, SwiGLU, untied head.</summary>
    Qwen3,

    /// <summary>LLaMA-3: pre-norm, GQA, SwiGLU, untied head.</summary>
    Llama3,

    /// <summary>OLMo-2: x + norm(attn(x)), x + norm(mlp(x)); QK-norm over the whole width.</summary>
    Olmo2,

    /// <summary>Gemma 2/3: a norm before and after each branch; QK-norm over d_head.</summary>
    Gemma,

    /// <summary>GPT-J / PaLM: x + attn(ln(x)) + mlp(ln(x)), biases, LayerNorm.</summary>
    GptJ,

    /// <summary>Mixtral: pre-norm, a top-2 mixture of 4 SwiGLU experts behind a router.</summary>
    Mixtral,
}

/// <summary>How a corpus model is built.</summary>
/// <param name="Style">The block style.</param>
/// <param name="Vocab">Vocabulary size.</param>
/// <param name="Width">Width N.</param>
/// <param name="Depth">Blocks.</param>
/// <param name="HeadDim">d_head.</param>
/// <param name="Calls">Whether children are invoked with .call (else .forward).</param>
/// <param name="BlockOrder">A permutation of the block's children, as indices into the style's forward order; null: the authors' order.</param>
/// <param name="TopOrder">A permutation of the model's top modules (embedding, blocks, final norm, head); null: the authors' order.</param>
/// <param name="OffsetGainNorms">Whether the RMSNorms multiply by (1 + weight) with the weight at 0, as Gemma's own code writes them (else weight * x_hat, weight at 1).</param>
public sealed record DecoderConfig(DecoderStyle Style, int Vocab = 40, int Width = 64, int Depth = 3, int HeadDim = 16, bool Calls = false,
    int[]? BlockOrder = null, int[]? TopOrder = null, bool OffsetGainNorms = false)
{
    public int Heads => Width / HeadDim;

    public int KvHeads => Style is DecoderStyle.Qwen3 or DecoderStyle.Llama3 ? Math.Max(1, Heads / 2) : Heads;

    public int Hidden => 2 * Width;

    public int Experts => 4;
}

/// <summary>Registers children in a given order (TorchSharp registers fields in declaration order; public code varies it).</summary>
public abstract class Ordered<TIn, TOut> : nn.Module<TIn, TOut>
{
    protected Ordered(string name) : base(name)
    {
        // Before any field is set: TorchSharp would otherwise register the fields later, under their field names, in declaration order.
        RegisterComponents();
    }

    protected void Register(int[]? order, params (string Name, nn.Module Module)[] children)
    {
        foreach (int i in order ?? Enumerable.Range(0, children.Length).ToArray())
        {
            register_module(children[i].Name, children[i].Module);
        }
    }

    protected static Tensor Run(bool calls, nn.Module<Tensor, Tensor> m, Tensor x) => calls ? m.call(x) : m.forward(x);
}

public sealed class CorpusRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public CorpusRmsNorm(int dim) : base(nameof(CorpusRmsNorm))
    {
        weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6) * weight;
}

/// <summary>Gemma's RMSNorm: the normalized input times (1 + weight), the weight initialized to 0.</summary>
public sealed class OffsetGainRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public OffsetGainRmsNorm(int dim) : base(nameof(OffsetGainRmsNorm))
    {
        weight = new Parameter(zeros(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6) * (1 + weight);
}

/// <summary>Attention with q/k/v/o projections (GQA), rotary tables as non-persistent buffers, optional QK-norm, a settable scale.</summary>
public sealed class CorpusAttention : Ordered<Tensor, Tensor>, IScaledAttention
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear o_proj;
    private readonly nn.Module<Tensor, Tensor>? q_norm;
    private readonly nn.Module<Tensor, Tensor>? k_norm;
    private readonly DecoderConfig _c;
    private readonly bool _wholeWidthQkNorm;

    public CorpusAttention(DecoderConfig c, int maxLength = 32) : base(nameof(CorpusAttention))
    {
        _c = c;
        bool bias = c.Style == DecoderStyle.GptJ;
        q_proj = nn.Linear(c.Width, c.Heads * c.HeadDim, hasBias: bias);
        k_proj = nn.Linear(c.Width, c.KvHeads * c.HeadDim, hasBias: bias);
        v_proj = nn.Linear(c.Width, c.KvHeads * c.HeadDim, hasBias: bias);
        o_proj = nn.Linear(c.Heads * c.HeadDim, c.Width, hasBias: bias);
        var children = new List<(string, nn.Module)> { ("o_proj", o_proj), ("q_proj", q_proj), ("k_proj", k_proj), ("v_proj", v_proj) };
        _wholeWidthQkNorm = c.Style == DecoderStyle.Olmo2;
        if (c.Style is DecoderStyle.Qwen3 or DecoderStyle.Gemma or DecoderStyle.Olmo2)
        {
            int size = _wholeWidthQkNorm ? c.Heads * c.HeadDim : c.HeadDim;
            q_norm = c.OffsetGainNorms ? new OffsetGainRmsNorm(size) : new CorpusRmsNorm(size);
            k_norm = c.OffsetGainNorms ? new OffsetGainRmsNorm(_wholeWidthQkNorm ? c.KvHeads * c.HeadDim : c.HeadDim) : new CorpusRmsNorm(_wholeWidthQkNorm ? c.KvHeads * c.HeadDim : c.HeadDim);
            children.Insert(0, ("k_norm", k_norm));
            children.Insert(0, ("q_norm", q_norm));
        }

        Register(null, children.ToArray());
        var inverse = 1.0 / pow(10000.0, arange(0, c.HeadDim, 2, dtype: ScalarType.Float32) / c.HeadDim);
        var angles = cat([outer(arange(maxLength, dtype: ScalarType.Float32), inverse), outer(arange(maxLength, dtype: ScalarType.Float32), inverse)], -1);
        register_buffer("rope_cos", angles.cos(), persistent: false);
        register_buffer("rope_sin", angles.sin(), persistent: false);
        AttentionScale = 1.0 / Math.Sqrt(c.HeadDim);
    }

    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        bool calls = _c.Calls;
        long b = x.shape[0], t = x.shape[1];
        var q = Run(calls, q_proj, x);
        var k = Run(calls, k_proj, x);
        if (_wholeWidthQkNorm)
        {
            q = Run(calls, q_norm!, q);
            k = Run(calls, k_norm!, k);
        }

        q = q.view(b, t, _c.Heads, _c.HeadDim).transpose(1, 2);
        k = k.view(b, t, _c.KvHeads, _c.HeadDim).transpose(1, 2);
        var v = Run(calls, v_proj, x).view(b, t, _c.KvHeads, _c.HeadDim).transpose(1, 2);
        if (q_norm is not null && !_wholeWidthQkNorm)
        {
            q = Run(calls, q_norm, q);
            k = Run(calls, k_norm!, k);
        }

        var cos = get_buffer("rope_cos")!.narrow(0, 0, t).to(x.dtype);
        var sin = get_buffer("rope_sin")!.narrow(0, 0, t).to(x.dtype);
        q = Rotate(q, cos, sin);
        k = Rotate(k, cos, sin);
        int groups = _c.Heads / _c.KvHeads;
        k = k.repeat_interleave(groups, 1);
        v = v.repeat_interleave(groups, 1);
        var scores = q.matmul(k.transpose(-2, -1)) * AttentionScale;
        var mask = ones(t, t, dtype: ScalarType.Bool, device: x.device).tril().logical_not();
        var y = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1).matmul(v).transpose(1, 2).contiguous().view(b, t, _c.Heads * _c.HeadDim);
        return Run(calls, o_proj, y);
    }

    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        return x * cos + cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1) * sin;
    }
}

/// <summary>SwiGLU with Hugging Face's names (gate_proj, up_proj, down_proj) or Mixtral's (w1, w3, w2); GPT-J's fc_in / fc_out with GELU.</summary>
public sealed class CorpusMlp : Ordered<Tensor, Tensor>
{
    private readonly Linear gate;
    private readonly Linear up;
    private readonly Linear down;
    private readonly bool _gelu;
    private readonly bool _calls;

    public CorpusMlp(DecoderConfig c, bool mixtralNames = false) : base(nameof(CorpusMlp))
    {
        _calls = c.Calls;
        _gelu = c.Style == DecoderStyle.GptJ;
        bool bias = _gelu;
        gate = nn.Linear(c.Width, c.Hidden, hasBias: bias);
        up = nn.Linear(c.Width, c.Hidden, hasBias: bias);
        down = nn.Linear(c.Hidden, c.Width, hasBias: bias);
        if (_gelu)
        {
            Register(null, ("fc_in", up), ("fc_out", down));
        }
        else if (mixtralNames)
        {
            Register(null, ("w1", gate), ("w2", down), ("w3", up)); // w2 (down) between w1 and w3, as Mixtral's expert
        }
        else
        {
            Register(null, ("gate_proj", gate), ("up_proj", up), ("down_proj", down));
        }
    }

    public override Tensor forward(Tensor x) => _gelu
        ? Run(_calls, down, nn.functional.gelu(Run(_calls, up, x)))
        : Run(_calls, down, nn.functional.silu(Run(_calls, gate, x)) * Run(_calls, up, x));
}

/// <summary>Mixtral's sparse MoE block: a router (width -> experts) and experts; each token's top-2 experts, weighted by a softmax over their logits.</summary>
public sealed class CorpusMoe : Ordered<Tensor, Tensor>
{
    private readonly Linear gate;
    private readonly ModuleList<CorpusMlp> experts;
    private readonly HandScales _scales;
    private readonly bool _calls;

    public CorpusMoe(DecoderConfig c, HandScales scales) : base(nameof(CorpusMoe))
    {
        _scales = scales;
        _calls = c.Calls;
        gate = nn.Linear(c.Width, c.Experts, hasBias: false);
        experts = new ModuleList<CorpusMlp>(Enumerable.Range(0, c.Experts).Select(_ => new CorpusMlp(c, mixtralNames: true)).ToArray());
        Register(null, ("gate", gate), ("experts", experts));
    }

    public override Tensor forward(Tensor x)
    {
        var logits = _scales.BlockReadout * Run(_calls, gate, x); // (B, T, E)
        var (top, index) = logits.topk(2, dim: -1);
        var weights = zeros_like(logits).scatter(-1, index, top.softmax(-1)); // zero for the experts not chosen
        var outputs = stack(experts.Select(e => Run(_calls, e, x)).ToArray(), -1); // (B, T, N, E)
        return (outputs * weights.unsqueeze(-2)).sum(-1);
    }
}

/// <summary>One decoder block of any style; its children registered in a given order.</summary>
public sealed class CorpusBlock : Ordered<Tensor, Tensor>
{
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _m = new();
    private readonly DecoderConfig _c;
    private readonly HandScales _scales;

    public CorpusBlock(DecoderConfig c, HandScales scales) : base(nameof(CorpusBlock))
    {
        _c = c;
        _scales = scales;
        nn.Module<Tensor, Tensor> Norm() => c.Style == DecoderStyle.GptJ ? nn.LayerNorm(c.Width) : c.OffsetGainNorms ? new OffsetGainRmsNorm(c.Width) : new CorpusRmsNorm(c.Width);
        var children = c.Style switch
        {
            // Listed in forward order; the authors' registration order is the default permutation below.
            DecoderStyle.Qwen3 or DecoderStyle.Llama3 => new (string, nn.Module<Tensor, Tensor>)[]
                { ("input_layernorm", Norm()), ("self_attn", new CorpusAttention(c)), ("post_attention_layernorm", Norm()), ("mlp", new CorpusMlp(c)) },
            DecoderStyle.Mixtral => [("input_layernorm", Norm()), ("self_attn", new CorpusAttention(c)), ("post_attention_layernorm", Norm()), ("block_sparse_moe", new CorpusMoe(c, scales))],
            DecoderStyle.Olmo2 => [("self_attn", new CorpusAttention(c)), ("post_attention_layernorm", Norm()), ("mlp", new CorpusMlp(c)), ("post_feedforward_layernorm", Norm())],
            DecoderStyle.Gemma => [("input_layernorm", Norm()), ("self_attn", new CorpusAttention(c)), ("post_attention_layernorm", Norm()),
                                   ("pre_feedforward_layernorm", Norm()), ("mlp", new CorpusMlp(c)), ("post_feedforward_layernorm", Norm())],
            DecoderStyle.GptJ => [("ln_1", Norm()), ("attn", new CorpusAttention(c)), ("mlp", new CorpusMlp(c))],
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
        int[] authors = c.Style switch
        {
            DecoderStyle.Qwen3 or DecoderStyle.Llama3 or DecoderStyle.Mixtral => [1, 3, 0, 2], // self_attn, mlp, input_layernorm, post_attention_layernorm
            DecoderStyle.Olmo2 => [0, 2, 1, 3],
            DecoderStyle.Gemma => [1, 4, 0, 2, 3, 5],
            _ => [0, 1, 2],
        };
        foreach (var (name, module) in children)
        {
            _m[name] = module;
        }

        Register(c.BlockOrder ?? authors, children.Select(x => (x.Item1, (nn.Module)x.Item2)).ToArray());
    }

    public override Tensor forward(Tensor x)
    {
        bool calls = _c.Calls;
        Tensor F(string name, Tensor y) => Run(calls, _m[name], y);
        double ra = _scales.Residual * _scales.AttentionBranch, rm = _scales.Residual * _scales.MlpBranch;
        switch (_c.Style)
        {
            case DecoderStyle.Olmo2:
                x = x + ra * F("post_attention_layernorm", F("self_attn", x));
                return x + rm * F("post_feedforward_layernorm", F("mlp", x));
            case DecoderStyle.Gemma:
                x = x + ra * F("post_attention_layernorm", F("self_attn", F("input_layernorm", x)));
                return x + rm * F("post_feedforward_layernorm", F("mlp", F("pre_feedforward_layernorm", x)));
            case DecoderStyle.GptJ:
                var h = F("ln_1", x);
                return x + ra * F("attn", h) + rm * F("mlp", h);
            default:
                x = x + ra * F("self_attn", F("input_layernorm", x));
                return x + rm * F(_c.Style == DecoderStyle.Mixtral ? "block_sparse_moe" : "mlp", F("post_attention_layernorm", x));
        }
    }
}

/// <summary>The causal LM: embed_tokens, layers, norm, lm_head (untied), registered in a given order.</summary>
public sealed class ModernDecoder : Ordered<Tensor, Tensor>, IHandScaled
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<CorpusBlock> layers;
    private readonly nn.Module<Tensor, Tensor> norm;
    private readonly Linear lm_head;
    private readonly bool _calls;

    public ModernDecoder(DecoderConfig c) : base(nameof(ModernDecoder))
    {
        _calls = c.Calls;
        embed_tokens = nn.Embedding(c.Vocab, c.Width);
        layers = new ModuleList<CorpusBlock>(Enumerable.Range(0, c.Depth).Select(_ => new CorpusBlock(c, Scales)).ToArray());
        norm = c.Style == DecoderStyle.GptJ ? nn.LayerNorm(c.Width) : c.OffsetGainNorms ? new OffsetGainRmsNorm(c.Width) : new CorpusRmsNorm(c.Width);
        lm_head = nn.Linear(c.Width, c.Vocab, hasBias: c.Style == DecoderStyle.GptJ);
        // Hugging Face's causal LMs register lm_head after the inner model; TopOrder varies it.
        Register(c.TopOrder, ("embed_tokens", embed_tokens), ("layers", layers), ("norm", norm), ("lm_head", lm_head));
    }

    public HandScales Scales { get; } = new();

    public override Tensor forward(Tensor ids)
    {
        var h = Scales.Embedding * (_calls ? embed_tokens.call(ids) : embed_tokens.forward(ids));
        foreach (var layer in layers)
        {
            h = Run(_calls, layer, h);
        }

        return Scales.Output * Run(_calls, lm_head, Run(_calls, norm, h));
    }
}

/// <summary>A Linear-like module that keeps its weight in a non-persistent buffer (never saved, never trained).</summary>
public sealed class HiddenLinear : nn.Module<Tensor, Tensor>
{
    public HiddenLinear(int fanIn, int fanOut) : base(nameof(HiddenLinear)) =>
        register_buffer("weight", randn(fanOut, fanIn) * 0.02, persistent: false);

    public override Tensor forward(Tensor x) => nn.functional.linear(x, get_buffer("weight")!);
}

/// <summary>Blocks of a norm and an MLP whose up projection keeps its weight in a non-persistent buffer.</summary>
public sealed class NonPersistentWeightModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<NonPersistentBlock> layers;
    private readonly Linear head;

    public NonPersistentWeightModel() : base(nameof(NonPersistentWeightModel))
    {
        embed = nn.Embedding(40, 32);
        layers = new ModuleList<NonPersistentBlock>(new NonPersistentBlock(), new NonPersistentBlock());
        head = nn.Linear(32, 40);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => head.call(layers.Aggregate(embed.call(ids), (h, l) => l.call(h)));
}

public sealed class NonPersistentBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln;
    private readonly HiddenLinear up;
    private readonly Linear down;

    public NonPersistentBlock() : base(nameof(NonPersistentBlock))
    {
        ln = nn.LayerNorm(32);
        up = new HiddenLinear(32, 64);
        down = nn.Linear(64, 32);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x + down.call(nn.functional.relu(up.call(ln.call(x))));
}

/// <summary>An embedding of 24 features padded to a residual stream of 32: its norms and its embedding disagree on the width.</summary>
public sealed class AmbiguousWidthModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<NonPersistentBlockPlain> layers;
    private readonly LayerNorm ln_f;
    private readonly Linear head;

    public AmbiguousWidthModel() : base(nameof(AmbiguousWidthModel))
    {
        embed = nn.Embedding(40, 24);
        layers = new ModuleList<NonPersistentBlockPlain>(new NonPersistentBlockPlain(), new NonPersistentBlockPlain());
        ln_f = nn.LayerNorm(32);
        head = nn.Linear(32, 40);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => head.call(ln_f.call(layers.Aggregate(nn.functional.pad(embed.call(ids), [0, 8]), (h, l) => l.call(h))));
}

public sealed class NonPersistentBlockPlain : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln;
    private readonly Sequential mlp;

    public NonPersistentBlockPlain() : base(nameof(NonPersistentBlockPlain))
    {
        ln = nn.LayerNorm(32);
        mlp = nn.Sequential(("up", nn.Linear(32, 64)), ("relu", nn.ReLU()), ("down", nn.Linear(64, 32)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x + mlp.call(ln.call(x));
}

/// <summary>An OLMo-2-style block whose post-norms have names that do not say so (norm1 after the attention, norm2 after the MLP).</summary>
public sealed class QuietPostNormBlock : nn.Module<Tensor, Tensor>
{
    private readonly CorpusAttention attn;
    private readonly CorpusRmsNorm norm1;
    private readonly CorpusMlp mlp;
    private readonly CorpusRmsNorm norm2;
    private readonly HandScales _scales;

    public QuietPostNormBlock(DecoderConfig c, HandScales scales) : base(nameof(QuietPostNormBlock))
    {
        _scales = scales;
        attn = new CorpusAttention(c);
        norm1 = new CorpusRmsNorm(c.Width);
        mlp = new CorpusMlp(c);
        norm2 = new CorpusRmsNorm(c.Width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x + _scales.Residual * norm1.call(attn.call(x));
        return x + _scales.Residual * norm2.call(mlp.call(x));
    }
}

/// <summary>A decoder of <see cref="QuietPostNormBlock"/>s.</summary>
public sealed class QuietPostNormDecoder : nn.Module<Tensor, Tensor>, IHandScaled
{
    private readonly Embedding wte;
    private readonly ModuleList<QuietPostNormBlock> h;
    private readonly CorpusRmsNorm ln_f;
    private readonly Linear lm_head;

    public QuietPostNormDecoder(int width = 64, int depth = 3) : base(nameof(QuietPostNormDecoder))
    {
        var c = new DecoderConfig(DecoderStyle.Llama3, Width: width, Depth: depth, Calls: true);
        wte = nn.Embedding(c.Vocab, width);
        h = new ModuleList<QuietPostNormBlock>(Enumerable.Range(0, depth).Select(_ => new QuietPostNormBlock(c, Scales)).ToArray());
        ln_f = new CorpusRmsNorm(width);
        lm_head = nn.Linear(width, c.Vocab, hasBias: false);
        RegisterComponents();
    }

    public HandScales Scales { get; } = new();

    public override Tensor forward(Tensor ids) => Scales.Output * lm_head.call(ln_f.call(h.Aggregate(Scales.Embedding * wte.call(ids), (x, b) => b.call(x))));
}
