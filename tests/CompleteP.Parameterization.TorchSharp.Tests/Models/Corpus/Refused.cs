using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Models.Corpus;

/// <summary>A language model over TorchSharp's native nn.TransformerEncoder, as TorchSharp's own sequence-to-sequence example builds it.</summary>
public sealed class NativeEncoderLm : nn.Module<Tensor, Tensor>
{
    private readonly TransformerEncoder transformer_encoder;
    private readonly Embedding encoder;
    private readonly Linear decoder;

    public NativeEncoderLm(int vocab, int width, int depth, int heads = 2) : base(nameof(NativeEncoderLm))
    {
        transformer_encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(width, heads, 2 * width, 0.0), depth);
        encoder = nn.Embedding(vocab, width);
        decoder = nn.Linear(width, vocab);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => decoder.forward(transformer_encoder.forward(encoder.forward(ids).transpose(0, 1), null, null).transpose(0, 1));
}

/// <summary>A Linear for inference: weight and bias are plain Tensor fields, which TorchSharp registers as buffers.</summary>
public sealed class InferenceLinear : nn.Module<Tensor, Tensor>
{
    private readonly Tensor weight;
    private readonly Tensor bias;

    public InferenceLinear(int fanIn, int fanOut) : base(nameof(InferenceLinear))
    {
        weight = randn(fanOut, fanIn) * 0.02;
        bias = zeros(fanOut);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight, bias);
}

public sealed class BufferBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly InferenceLinear up;
    private readonly InferenceLinear down;

    public BufferBlock(int width) : base(nameof(BufferBlock))
    {
        norm = nn.LayerNorm(width);
        up = new InferenceLinear(width, 2 * width);
        down = new InferenceLinear(2 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x + down.forward(nn.functional.gelu(up.forward(norm.forward(x))));
}

/// <summary>A model whose block weights are buffers: an optimizer over parameters() would train only the embedding, the norms and the head.</summary>
public sealed class BufferWeightsModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<BufferBlock> layers;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public BufferWeightsModel(int vocab, int width, int depth) : base(nameof(BufferWeightsModel))
    {
        embed = nn.Embedding(vocab, width);
        layers = new ModuleList<BufferBlock>(Enumerable.Range(0, depth).Select(_ => new BufferBlock(width)).ToArray());
        norm = nn.LayerNorm(width);
        head = nn.Linear(width, vocab);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var x = embed.forward(ids);
        foreach (var layer in layers)
        {
            x = layer.forward(x);
        }

        return head.forward(norm.forward(x));
    }
}
