using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

// A timm-style vision transformer: a Conv2d patch embedding, a CLS token and a position table kept as raw Parameters,
// pre-norm blocks (norm1, attn with a fused qkv, norm2, mlp with fc1 / fc2), a final norm and a class head. Children are
// called with .call or .forward. Written for these tests; no public code copied.

public sealed class VitAttention : nn.Module<Tensor, Tensor>, IScaledAttention
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly int _width;
    private readonly int _heads;
    private readonly bool _calls;

    public VitAttention(int width, int headDim, bool calls) : base(nameof(VitAttention))
    {
        _width = width;
        _heads = width / headDim;
        _calls = calls;
        qkv = nn.Linear(width, 3 * width);
        proj = nn.Linear(width, width);
        AttentionScale = 1.0 / Math.Sqrt(headDim);
        RegisterComponents();
    }

    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        var parts = (_calls ? qkv.call(x) : qkv.forward(x)).split(_width, 2);
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _width / _heads).transpose(1, 2);
        var y = (Heads(parts[0]).matmul(Heads(parts[1]).transpose(-2, -1)) * AttentionScale).softmax(-1).matmul(Heads(parts[2]));
        y = y.transpose(1, 2).contiguous().view(b, t, _width);
        return _calls ? proj.call(y) : proj.forward(y);
    }
}

public sealed class VitMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly bool _calls;

    public VitMlp(int width, bool calls) : base(nameof(VitMlp))
    {
        _calls = calls;
        fc1 = nn.Linear(width, 4 * width);
        fc2 = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => _calls ? fc2.call(nn.functional.gelu(fc1.call(x))) : fc2.forward(nn.functional.gelu(fc1.forward(x)));
}

public sealed class VitBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly VitAttention attn;
    private readonly LayerNorm norm2;
    private readonly VitMlp mlp;
    private readonly HandScales _scales;
    private readonly bool _calls;

    public VitBlock(int width, int headDim, HandScales scales, bool calls) : base(nameof(VitBlock))
    {
        _scales = scales;
        _calls = calls;
        norm1 = nn.LayerNorm(width);
        attn = new VitAttention(width, headDim, calls);
        norm2 = nn.LayerNorm(width);
        mlp = new VitMlp(width, calls);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Tensor Run(nn.Module<Tensor, Tensor> m, Tensor y) => _calls ? m.call(y) : m.forward(y);
        x = x + _scales.Residual * Run(attn, Run(norm1, x));
        return x + _scales.Residual * Run(mlp, Run(norm2, x));
    }
}

public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;

    public PatchEmbed(int channels, int width, int patch) : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(channels, width, patch, stride: patch);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => proj.call(images).flatten(2).transpose(1, 2); // (B, patches, N)
}

/// <summary>A small ViT: 8x8 images of 3 channels, 4x4 patches (4 tokens and the CLS token), a class head.</summary>
public sealed class VitLike : nn.Module<Tensor, Tensor>, IHandScaled
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter cls_token;
    private readonly Parameter pos_embed;
    private readonly ModuleList<VitBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly bool _calls;

    public VitLike(int width, int depth, int classes = 10, int headDim = 16, bool calls = false) : base(nameof(VitLike))
    {
        _calls = calls;
        patch_embed = new PatchEmbed(3, width, 4);
        cls_token = new Parameter(zeros(1, 1, width));
        pos_embed = new Parameter(randn(1, 5, width) * 0.02);
        blocks = new ModuleList<VitBlock>(Enumerable.Range(0, depth).Select(_ => new VitBlock(width, headDim, Scales, calls)).ToArray());
        norm = nn.LayerNorm(width);
        head = nn.Linear(width, classes);
        RegisterComponents();
    }

    public HandScales Scales { get; } = new();

    public override Tensor forward(Tensor images)
    {
        var x = Scales.Embedding * (_calls ? patch_embed.call(images) : patch_embed.forward(images));
        x = cat([Scales.Embedding * cls_token.expand(x.shape[0], -1, -1), x], 1) + Scales.Embedding * pos_embed;
        foreach (var block in blocks)
        {
            x = _calls ? block.call(x) : block.forward(x);
        }

        var pooled = (_calls ? norm.call(x) : norm.forward(x)).select(1, 0);
        return Scales.Output * (_calls ? head.call(pooled) : head.forward(pooled));
    }
}
