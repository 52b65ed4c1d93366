using TorchSharp.Modules;

namespace CompleteP.Discovery;

/// <summary>One unique parameter tensor of a model, with the role the discovery gave it.</summary>
/// <param name="Name">Its first name in the module tree.</param>
/// <param name="Tensor">The parameter.</param>
/// <param name="ModuleName">The name of the module that owns it under <paramref name="Name"/> (empty for the root).</param>
/// <param name="Role">Its role.</param>
/// <param name="IsBias">Whether it is a bias or a norm's shift.</param>
/// <param name="ResidualBranch">The residual branch that holds it, or null.</param>
/// <param name="WritesBranch">The residual branch whose output it writes (the output projection's weight or bias), or null.</param>
/// <param name="IsInput">Whether an input module (embedding, input layer) owns it under some name.</param>
/// <param name="IsReadout">Whether the readout owns it under some name (a tied table is both input and readout).</param>
/// <param name="SharedWith">Other names of the same tensor (tied weights).</param>
/// <param name="ShapeKey">The name with its block written <c>#</c>, to match it to the base model.</param>
internal sealed record DiscoveredParameter(
    string Name,
    Parameter Tensor,
    string ModuleName,
    TensorRole Role,
    bool IsBias,
    string? ResidualBranch,
    string? WritesBranch,
    bool IsInput,
    bool IsReadout,
    IReadOnlyList<string> SharedWith,
    string ShapeKey)
{
    /// <summary>The tensor's shape.</summary>
    public long[] Shape => Tensor.shape;

    /// <summary>The fan-in of a 2-D weight (<c>in_features</c> of a Linear: shape [out, in]); null otherwise.</summary>
    public long? FanIn => Tensor.dim() == 2 ? Tensor.shape[1] : null;

    /// <summary>Whether the tensor takes gradients.</summary>
    public bool Trainable => Tensor.requires_grad;

    /// <summary>Whether it is the weight of a residual branch's output projection (GPT-2's SP init scales it).</summary>
    public bool IsResidualOutputProjection => WritesBranch is not null && !IsBias;
}
