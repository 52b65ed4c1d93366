using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>nanoGPT's MLP: <c>c_fc</c> (N to 4N), GELU, <c>c_proj</c> (4N to N), dropout. A residual branch.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    // Field names are the module names: TorchSharp registers fields by name.
    private readonly Linear c_fc;
    private readonly GELU gelu;
    private readonly Linear c_proj;
    private readonly Dropout dropout;

    /// <summary>Creates the MLP of one block.</summary>
    public Mlp(GptConfig config) : base(nameof(Mlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        c_fc = nn.Linear(config.NEmbd, 4 * config.NEmbd, hasBias: config.Bias);
        gelu = nn.GELU();
        c_proj = nn.Linear(4 * config.NEmbd, config.NEmbd, hasBias: config.Bias);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => dropout.call(c_proj.call(gelu.call(c_fc.call(x))));   // (B, T, N) -> (B, T, 4N) -> (B, T, N)
}
