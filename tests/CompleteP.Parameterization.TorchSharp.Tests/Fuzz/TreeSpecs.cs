namespace CompleteP.Tests.Adapter.Fuzz;

/// <summary>Fixed trees for tests that pin one behaviour: a nanoGPT-like tree to vary with <c>with { ... }</c>.</summary>
public static class TreeSpecs
{
    public static readonly BranchSpec Attention = new(true, "attn", "ln_1", ["c_attn", "c_proj"], "c_proj", Fused: true, Ratio: 0, Bias: true, Scaled: false,
        Inner: Invocation.Call, Invoked: Invocation.Call);

    public static readonly BranchSpec Mlp = new(false, "mlp", "ln_2", ["c_fc", "c_proj"], "c_proj", Fused: false, Ratio: 2, Bias: true, Scaled: false,
        Inner: Invocation.Call, Invoked: Invocation.Call);

    /// <summary>A nanoGPT-like tree: ModuleList 'h' of attention + MLP blocks, untied head, CompleteP, Fold, no extras.</summary>
    public static TreeSpec Gpt(int seed = 1) => new()
    {
        Seed = seed, Width = 8, Depth = 2, HeadDim = 2, Container = BlockContainer.ModuleList, ContainerName = "h", Stages = 1, Wrapper = false,
        Branches = [Attention, Mlp], NormsFirst = false, Norm = NormKind.LayerNorm, TableName = "wte", Position = 1, FinalNorm = true,
        Readout = ReadoutKind.Untied, ReadoutBias = false, ReadoutName = "lm_head", ReadoutFirst = false, RootGain = false, MixingBuffer = false,
        MaskBuffer = false, Frozen = Frozen.None, Blocks = Invocation.Call, Outer = Invocation.Call, Parameterization = "completep", AlphaIn = 1, AlphaOut = 1,
        Mode = MultiplierMode.Fold, SampleForward = true, OptimizerFromAllParameters = false, DeclareBlocks = false, DeclareBranches = false,
        DeclareOutputs = false, DeclareReadout = false, DeclareGain = false, DeclareLogitsInForward = false, BogusDeclaration = null,
    };
}
