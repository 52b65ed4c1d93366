using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>nanoGPT's LayerNorm: a gain <c>weight</c> (ones) and an optional shift <c>bias</c> (zeros).</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    // Field names are the parameter names: TorchSharp registers (and moves) fields by name.
    private readonly long[] _shape;
    private Parameter weight;
    private Parameter? bias;

    /// <summary>Creates a LayerNorm over the last dimension.</summary>
    public LayerNorm(int ndim, bool bias) : base(nameof(LayerNorm))
    {
        _shape = [ndim];
        weight = new Parameter(torch.ones(ndim));
        this.bias = bias ? new Parameter(torch.zeros(ndim)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => nn.functional.layer_norm(input, _shape, weight, bias, 1e-5);   // (..., N) -> (..., N)
}
