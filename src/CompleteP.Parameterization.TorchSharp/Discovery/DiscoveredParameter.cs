using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>One unique parameter tensor of a model, with the role the discovery gave it.</summary>
/// <param name="Name">Its first name in <c>named_parameters()</c>.</param>
/// <param name="Tensor">The parameter.</param>
/// <param name="ModuleName">The name of the module that owns it (empty for the root).</param>
/// <param name="Role">Its role.</param>
/// <param name="IsBias">Whether it is a bias or a norm's shift.</param>
/// <param name="ResidualBranch">The residual branch that holds it, or null outside blocks.</param>
/// <param name="IsResidualOutputProjection">Whether it is the weight of the last Linear of a residual branch.</param>
/// <param name="SharedWith">Other names of the same tensor (tied weights).</param>
/// <param name="ShapeKey">The name with the block index replaced by <c>*</c>, to match it to the base model.</param>
internal sealed record DiscoveredParameter(
    string Name,
    Parameter Tensor,
    string ModuleName,
    TensorRole Role,
    bool IsBias,
    string? ResidualBranch,
    bool IsResidualOutputProjection,
    IReadOnlyList<string> SharedWith,
    string ShapeKey)
{
    /// <summary>The tensor's shape.</summary>
    public long[] Shape => Tensor.shape;

    /// <summary>The fan-in of a 2-D weight (<c>in_features</c> of a Linear: shape [out, in]); null otherwise.</summary>
    public long? FanIn => Tensor.dim() == 2 ? Tensor.shape[1] : null;

    /// <summary>Whether the tensor takes gradients.</summary>
    public bool Trainable => Tensor.requires_grad;
}
