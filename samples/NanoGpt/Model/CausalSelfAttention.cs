using CompleteP;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// nanoGPT's causal self-attention: a fused q/k/v projection <c>c_attn</c>, <c>NEmbd / HeadDim</c>
/// heads, and the output projection <c>c_proj</c>. A residual branch. The logit scale is
/// <see cref="AttentionScale"/> (<c>1/sqrt(d_head)</c> until the parameterization sets it).
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>, IScaledAttention
{
    // Field names are the module names: TorchSharp registers fields by name.
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly Dropout attn_dropout; // nanoGPT's; unused here: the fused kernel applies dropout itself
    private readonly Dropout resid_dropout;
    private readonly int _nHead;
    private readonly int _nEmbd;
    private readonly int _headDim;
    private readonly double _dropout;

    /// <summary>Creates the attention of one block.</summary>
    public CausalSelfAttention(GptConfig config) : base(nameof(CausalSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _nHead = config.NHead;
        _nEmbd = config.NEmbd;
        _headDim = config.HeadDim;
        _dropout = config.Dropout;
        c_attn = nn.Linear(config.NEmbd, 3 * config.NEmbd, hasBias: config.Bias);
        c_proj = nn.Linear(config.NEmbd, config.NEmbd, hasBias: config.Bias);
        attn_dropout = nn.Dropout(config.Dropout);
        resid_dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
        AttentionScale = 1.0 / Math.Sqrt(config.HeadDim);
    }

    /// <inheritdoc />
    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];   // batch size, sequence length; x is (B, T, N)

        // q, k, v for all heads in one matmul, then the heads moved forward to be a batch dimension.
        var qkv = c_attn.call(x).split(_nEmbd, dim: 2);   // 3 x (B, T, N)
        var q = qkv[0].view(b, t, _nHead, _headDim).transpose(1, 2);   // (B, nh, T, hs)
        var k = qkv[1].view(b, t, _nHead, _headDim).transpose(1, 2);   // (B, nh, T, hs)
        var v = qkv[2].view(b, t, _nHead, _headDim).transpose(1, 2);   // (B, nh, T, hs)

        // scaled_dot_product_attention divides by sqrt(d_head) itself and has no scale argument in
        // TorchSharp 0.107: pre-scale q so that the logits are AttentionScale * q k^T. (On 2 CPU
        // cores this is as fast as masked matmul-softmax at T = 64 and 20% faster at T = 128.)
        double qScale = AttentionScale * Math.Sqrt(_headDim);
        if (Math.Abs(qScale - 1.0) > 1e-12)
        {
            q = q * qScale;   // (B, nh, T, hs)
        }

        // Causal attention: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T), softmax, x (B, nh, T, hs) -> (B, nh, T, hs).
        var y = nn.functional.scaled_dot_product_attention(q, k, v, p: training ? _dropout : 0.0, is_casual: true);
        y = y.transpose(1, 2).contiguous().view(b, t, _nEmbd);   // (B, T, N): the heads' outputs side by side
        return resid_dropout.call(c_proj.call(y));   // (B, T, N)
    }
}
