using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>One pre-LN transformer block: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.</summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    // Field names are the module names: TorchSharp registers fields by name.
    private readonly LayerNorm ln_1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;

    /// <summary>Creates a block.</summary>
    public Block(GptConfig config) : base(nameof(Block))
    {
        ArgumentNullException.ThrowIfNull(config);
        ln_1 = new LayerNorm(config.NEmbd, config.Bias);
        attn = new CausalSelfAttention(config);
        ln_2 = new LayerNorm(config.NEmbd, config.Bias);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    /// <summary>The norm before the attention (<c>ln_1</c>).</summary>
    public LayerNorm Ln1 => ln_1;

    /// <summary>The norm before the MLP (<c>ln_2</c>).</summary>
    public LayerNorm Ln2 => ln_2;

    /// <summary>The attention (<c>attn</c>).</summary>
    public CausalSelfAttention Attention => attn;

    /// <summary>The MLP (<c>mlp</c>).</summary>
    public Mlp Mlp => mlp;

    public override Tensor forward(Tensor x)
    {
        // Every submodule goes through call(), so forward hooks fire (the coordinate checks record through them;
        // with MultiplierMode.Hooks, so do the residual multipliers, which Apply folds into c_proj by default).
        x = x + attn.call(ln_1.call(x));   // (B, T, N)
        return x + mlp.call(ln_2.call(x));   // (B, T, N)
    }
}
