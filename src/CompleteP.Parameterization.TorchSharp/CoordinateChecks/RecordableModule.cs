using static TorchSharp.torch;

namespace CompleteP.CoordinateChecks;

/// <summary>A module a coordinate check records, and what it records there.</summary>
/// <param name="Name">The name written into measurements: the module's name, or <c>{final norm}.input</c> for the residual stream.</param>
/// <param name="Module">The module whose forward is recorded.</param>
/// <param name="Kind">What it is.</param>
/// <param name="BlockIndex">The index of the block that holds it, or -1 outside the blocks.</param>
/// <param name="RecordsInput">True when the module's input is recorded (the residual stream at the final norm), false for its output.</param>
public sealed record RecordableModule(string Name, nn.Module<Tensor, Tensor> Module, ModuleKind Kind, int BlockIndex, bool RecordsInput = false)
{
    /// <summary>The name written into measurements: the module's name, or <c>{final norm}.input</c> for the residual stream.</summary>
    public string Name { get; internal init; } = Name;

    /// <summary>The module whose forward is recorded.</summary>
    public nn.Module<Tensor, Tensor> Module { get; internal init; } = Module;

    /// <summary>What it is.</summary>
    public ModuleKind Kind { get; internal init; } = Kind;

    /// <summary>The index of the block that holds it, or -1 outside the blocks.</summary>
    public int BlockIndex { get; internal init; } = BlockIndex;

    /// <summary>True when the module's input is recorded (the residual stream at the final norm), false for its output.</summary>
    public bool RecordsInput { get; internal init; } = RecordsInput;
}
