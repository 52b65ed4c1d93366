using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// A LLaMA-style decoder in the shape public TorchSharp code takes (ML.NET GenAI, Llama ports): RMSNorm, rotary
// position embeddings (cos/sin tables as buffers), a gate/up/down MLP, separate q/k/v/o projections with o_proj
// registered first, an untied lm_head declared before the decoder, children called with .forward, and custom
// input/output records instead of tensors. Written here; no public code copied.

public sealed record LlamaLikeInput(Tensor InputIds);

public sealed record LlamaLikeOutput(Tensor Logits);

public sealed record LlamaLikeLayerInput(Tensor HiddenStates, Tensor Cos, Tensor Sin);

public sealed record LlamaLikeLayerOutput(Tensor HiddenStates);

public sealed class LlamaLikeRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public LlamaLikeRmsNorm(int dim) : base(nameof(LlamaLikeRmsNorm))
    {
        weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6) * weight;
}

public sealed class LlamaLikeAttention : nn.Module<LlamaLikeLayerInput, Tensor>
{
    // o_proj first, as GenAI's attention registers it.
    private readonly Linear o_proj;
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly int _heads;
    private readonly int _headDim;

    private readonly bool _calls;

    public LlamaLikeAttention(int width, int headDim, bool calls) : base(nameof(LlamaLikeAttention))
    {
        _calls = calls;
        _headDim = headDim;
        _heads = width / headDim;
        o_proj = nn.Linear(width, width, hasBias: false);
        q_proj = nn.Linear(width, width, hasBias: false);
        k_proj = nn.Linear(width, width, hasBias: false);
        v_proj = nn.Linear(width, width, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(LlamaLikeLayerInput input)
    {
        var x = input.HiddenStates;
        long b = x.shape[0], t = x.shape[1];
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _headDim).transpose(1, 2);
        Tensor Run(Linear l, Tensor y) => _calls ? l.call(y) : l.forward(y);
        var q = Rotate(Heads(Run(q_proj, x)), input.Cos, input.Sin);
        var k = Rotate(Heads(Run(k_proj, x)), input.Cos, input.Sin);
        var v = Heads(Run(v_proj, x));
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(_headDim);
        var mask = ones(t, t, dtype: ScalarType.Bool, device: x.device).tril().logical_not();
        var weights = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1);
        return Run(o_proj, weights.matmul(v).transpose(1, 2).contiguous().view(b, t, _heads * _headDim));
    }

    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }
}

public sealed class LlamaLikeMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;

    private readonly bool _calls;

    public LlamaLikeMlp(int width, int hidden, bool calls) : base(nameof(LlamaLikeMlp))
    {
        _calls = calls;
        gate_proj = nn.Linear(width, hidden, hasBias: false);
        up_proj = nn.Linear(width, hidden, hasBias: false);
        down_proj = nn.Linear(hidden, width, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Tensor Run(Linear l, Tensor y) => _calls ? l.call(y) : l.forward(y);
        return Run(down_proj, nn.functional.silu(Run(gate_proj, x)) * Run(up_proj, x));
    }
}

public sealed class LlamaLikeLayer : nn.Module<LlamaLikeLayerInput, LlamaLikeLayerOutput>
{
    // The MLP and both norms before the attention, as GenAI's decoder layer declares them.
    private readonly LlamaLikeMlp mlp;
    private readonly LlamaLikeRmsNorm input_layernorm;
    private readonly LlamaLikeRmsNorm post_attention_layernorm;
    private readonly LlamaLikeAttention self_attn;
    private readonly HandScales _scales;
    private readonly bool _calls;

    public LlamaLikeLayer(int width, int headDim, int hidden, HandScales scales, bool calls) : base(nameof(LlamaLikeLayer))
    {
        _scales = scales;
        _calls = calls;
        mlp = new LlamaLikeMlp(width, hidden, calls);
        input_layernorm = new LlamaLikeRmsNorm(width);
        post_attention_layernorm = new LlamaLikeRmsNorm(width);
        self_attn = new LlamaLikeAttention(width, headDim, calls);
        RegisterComponents();
    }

    public override LlamaLikeLayerOutput forward(LlamaLikeLayerInput input)
    {
        var residual = input.HiddenStates;
        var h = _calls ? input_layernorm.call(residual) : input_layernorm.forward(residual);
        h = residual + _scales.Residual * (_calls ? self_attn.call(input with { HiddenStates = h }) : self_attn.forward(input with { HiddenStates = h }));
        residual = h;
        h = _calls ? post_attention_layernorm.call(h) : post_attention_layernorm.forward(h);
        return new LlamaLikeLayerOutput(residual + _scales.Residual * (_calls ? mlp.call(h) : mlp.forward(h)));
    }
}

public sealed class LlamaLikeModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaLikeLayer> layers;
    private readonly LlamaLikeRmsNorm norm;
    private readonly Tensor cos_cached;
    private readonly Tensor sin_cached;
    private readonly HandScales _scales;
    private readonly bool _calls;

    public LlamaLikeModel(int vocab, int width, int depth, int headDim, int hidden, int maxLength, HandScales scales, bool calls, long? paddingIdx = null) : base(nameof(LlamaLikeModel))
    {
        _scales = scales;
        _calls = calls;
        embed_tokens = nn.Embedding(vocab, width, padding_idx: paddingIdx);
        layers = new ModuleList<LlamaLikeLayer>(Enumerable.Range(0, depth).Select(_ => new LlamaLikeLayer(width, headDim, hidden, scales, calls)).ToArray());
        norm = new LlamaLikeRmsNorm(width);
        var inverse = 1.0 / pow(10000.0, arange(0, headDim, 2, dtype: ScalarType.Float32) / headDim);
        var angles = outer(arange(maxLength, dtype: ScalarType.Float32), inverse);
        var both = cat([angles, angles], -1);
        cos_cached = both.cos();
        sin_cached = both.sin();
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        long t = ids.shape[1];
        var h = _scales.Embedding * (_calls ? embed_tokens.call(ids) : embed_tokens.forward(ids));
        var cos = cos_cached.narrow(0, 0, t).to(h.dtype);
        var sin = sin_cached.narrow(0, 0, t).to(h.dtype);
        foreach (var layer in layers)
        {
            h = (_calls ? layer.call(new LlamaLikeLayerInput(h, cos, sin)) : layer.forward(new LlamaLikeLayerInput(h, cos, sin))).HiddenStates;
        }

        return _calls ? norm.call(h) : norm.forward(h);
    }
}

/// <summary>
/// The causal LM: lm_head declared before the decoder, custom records in and out. As public code writes it, children
/// are called with .forward; <c>calls: true</c> makes the same model call them with .call (what the coordinate checks need).
/// </summary>
public sealed class LlamaLike : nn.Module<LlamaLikeInput, LlamaLikeOutput>, IHandScaled
{
    private readonly Linear lm_head;
    private readonly LlamaLikeModel model;

    private readonly bool _calls;

    public LlamaLike(int vocab, int width, int depth, int headDim = 16, int? hidden = null, int maxLength = 64, bool calls = false, long? paddingIdx = null) : base(nameof(LlamaLike))
    {
        _calls = calls;
        model = new LlamaLikeModel(vocab, width, depth, headDim, hidden ?? 2 * width, maxLength, Scales, calls, paddingIdx);
        lm_head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
    }

    public HandScales Scales { get; } = new();

    public override LlamaLikeOutput forward(LlamaLikeInput input)
    {
        var hidden = _calls ? model.call(input.InputIds) : model.forward(input.InputIds);
        return new(Scales.Output * (_calls ? lm_head.call(hidden) : lm_head.forward(hidden)));
    }
}
