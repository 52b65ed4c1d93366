using static TorchSharp.torch;

namespace CompleteP;

/// <summary>What the discovery found in a module tree: blocks, residual branches, readout, input modules and every parameter's role.</summary>
internal sealed record ModelStructure(
    string BlocksName,
    IReadOnlyList<string> BlockNames,
    IReadOnlyList<(string Name, nn.Module Module)> ResidualBranches,
    (string Name, nn.Module Module)? Readout,
    IReadOnlyList<(string Name, nn.Module Module)> InputModules,
    IReadOnlyList<IScaledAttention> AttentionModules,
    IReadOnlyList<DiscoveredParameter> Parameters,
    int Width)
{
    /// <summary>The number of blocks, <c>L</c>.</summary>
    public int Depth => BlockNames.Count;
}
