namespace CompleteP.Tests.Adapter.Fuzz;

/// <summary>How a module calls a child: <c>child.call(x)</c> (forward hooks run) or <c>child.forward(x)</c> (they do not).</summary>
public enum Invocation
{
    Call,
    Forward,
}

/// <summary>Where the blocks are registered.</summary>
public enum BlockContainer
{
    ModuleList,
    Sequential,
    ModuleDict,
    Siblings,
    Stages,
}

/// <summary>The readout: its own Linear, a Linear tied to the token table (either direction of assignment), or a matmul with the table.</summary>
public enum ReadoutKind
{
    Untied,
    TiedHeadTakesTable,
    TiedTableTakesHead,
    Matmul,
}

/// <summary>The norm type of blocks and the final norm.</summary>
public enum NormKind
{
    LayerNorm,
    LayerNormNoBias,
    RmsNorm,
}

/// <summary>Which parameter is frozen (requires_grad = false), if any.</summary>
public enum Frozen
{
    None,
    PositionTable,
    FirstBlockNorm,
    ReadoutBias,
    RootGain,
}

/// <summary>One residual branch of a block.</summary>
/// <param name="IsAttention">Attention (else an MLP).</param>
/// <param name="Name">Its local name in the block.</param>
/// <param name="NormName">The local name of the norm before it.</param>
/// <param name="Linears">The local names of its Linears, in registration order.</param>
/// <param name="Output">The local name of the Linear that writes its output.</param>
/// <param name="Fused">Attention: one fused qkv Linear (else q, k, v). MLP: gated (gate, up, down; else up, down).</param>
/// <param name="Ratio">MLP: the hidden width over the width.</param>
/// <param name="Bias">Whether its Linears have biases.</param>
/// <param name="Scaled">Attention: implements IScaledAttention (the library sets its logit scale).</param>
/// <param name="Inner">How it calls its Linears.</param>
/// <param name="Invoked">How the block calls it (and its norm).</param>
public sealed record BranchSpec(bool IsAttention, string Name, string NormName, IReadOnlyList<string> Linears, string Output, bool Fused, int Ratio, bool Bias,
    bool Scaled, Invocation Inner, Invocation Invoked);

/// <summary>
/// A random transformer-like module tree and what Apply is asked: shapes, container, branch layout and names, norms,
/// embeddings, readout, extra root parameters and buffers, frozen parameters, the ways children are invoked, the
/// parameterization and multiplier mode, and declarations (right ones, and sometimes a wrong one).
/// </summary>
public sealed record TreeSpec
{
    public required int Seed { get; init; }
    public required int Width { get; init; }
    public required int Depth { get; init; }
    public required int HeadDim { get; init; }
    public int Vocab { get; init; } = 11;
    public int Length { get; init; } = 4;
    public required BlockContainer Container { get; init; }
    public required string ContainerName { get; init; }
    public required int Stages { get; init; }
    public required bool Wrapper { get; init; }
    public required IReadOnlyList<BranchSpec> Branches { get; init; }
    public required bool NormsFirst { get; init; }
    public required NormKind Norm { get; init; }
    public required string TableName { get; init; }
    public required int Position { get; init; } // 0 none, 1 Embedding wpe, 2 raw Parameter pos_emb
    public required bool FinalNorm { get; init; }
    public required ReadoutKind Readout { get; init; }
    public required bool ReadoutBias { get; init; }
    public required string ReadoutName { get; init; }
    public required bool ReadoutFirst { get; init; }
    public required bool RootGain { get; init; }
    public required bool MixingBuffer { get; init; }
    public required bool MaskBuffer { get; init; }
    public required Frozen Frozen { get; init; }
    public required Invocation Blocks { get; init; }
    public required Invocation Outer { get; init; }
    public required string Parameterization { get; init; }
    public required double AlphaIn { get; init; }
    public required double AlphaOut { get; init; }
    public required MultiplierMode Mode { get; init; }
    public required bool SampleForward { get; init; }
    public required bool OptimizerFromAllParameters { get; init; }
    public required bool DeclareBlocks { get; init; }
    public required bool DeclareBranches { get; init; }
    public required bool DeclareOutputs { get; init; }
    public required bool DeclareReadout { get; init; }
    public required bool DeclareGain { get; init; }
    public required bool DeclareLogitsInForward { get; init; }
    public bool DeclareLogitsFromTable { get; init; }
    public required string? BogusDeclaration { get; init; }

    /// <summary>The full name of the blocks' container (or of the root, for siblings).</summary>
    public string BlocksPath => Wrapper ? "transformer." + ContainerName : ContainerName;

    public override string ToString() =>
        $"seed {Seed}: {Parameterization} {Mode} width {Width} depth {Depth} d_head {HeadDim}; {Container} '{ContainerName}'{(Container == BlockContainer.Stages ? $" x{Stages}" : "")}{(Wrapper ? " in transformer" : "")}; " +
        $"branches [{string.Join(", ", Branches.Select(b => $"{b.Name}({string.Join("/", b.Linears)} -> {b.Output}{(b.Bias ? " bias" : "")}{(b.Scaled ? " scaled" : "")}, {b.Invoked}/{b.Inner})"))}] " +
        $"{(NormsFirst ? "norms first" : "interleaved")} {Norm}; table '{TableName}' position {Position}; final norm {FinalNorm}; readout {Readout} '{ReadoutName}'{(ReadoutBias ? " bias" : "")}{(ReadoutFirst ? " first" : "")}; " +
        $"gain {RootGain} mixing {MixingBuffer} mask {MaskBuffer} frozen {Frozen}; blocks {Blocks} outer {Outer}; alpha_in {AlphaIn} alpha_out {AlphaOut}; sample {SampleForward}; " +
        $"optimizer from all {OptimizerFromAllParameters}; declare blocks {DeclareBlocks} branches {DeclareBranches} outputs {DeclareOutputs} readout {DeclareReadout} gain {DeclareGain} logits {DeclareLogitsInForward} from table {DeclareLogitsFromTable} bogus {BogusDeclaration ?? "-"}";

    /// <summary>Draws a tree from a seed.</summary>
    public static TreeSpec Draw(int seed)
    {
        var r = new Random(seed);
        T Pick<T>(params T[] items) => items[r.Next(items.Length)];
        bool Chance(double p) => r.NextDouble() < p;
        Invocation How(double forward) => Chance(forward) ? Invocation.Forward : Invocation.Call;

        int headDim = Pick(1, 2, 4);
        int width = headDim * 2 * r.Next(1, 4); // even multiples, so that the base width N/2 holds whole heads
        var container = Pick(BlockContainer.ModuleList, BlockContainer.ModuleList, BlockContainer.Sequential, BlockContainer.ModuleDict, BlockContainer.Siblings, BlockContainer.Stages);
        int stages = container == BlockContainer.Stages ? Pick(2, 3) : 1;
        int depth = container == BlockContainer.Stages ? stages * r.Next(1, 3) : Pick(1, 1, 2, 2, 3, 4, 6);
        bool bias = Chance(0.5);
        var branches = new List<BranchSpec>();
        var kinds = Pick(new[] { true, false }, new[] { false, true }, new[] { true }, new[] { false }, new[] { true, false });
        var style = r.Next(3);
        foreach (bool attention in kinds)
        {
            Invocation invoked = How(0.25), inner = How(0.3);
            if (attention)
            {
                bool fused = Chance(0.5);
                string output = Pick("c_proj", "o_proj", "out_proj", "wo", "dense", "proj", "mix");
                var qkv = fused ? new[] { Pick("c_attn", "qkv", "Wqkv") } : Pick(new[] { "q_proj", "k_proj", "v_proj" }, new[] { "query", "key", "value" }, new[] { "wq", "wk", "wv" });
                var linears = Chance(0.5) ? qkv.Append(output).ToArray() : qkv.Prepend(output).ToArray();
                branches.Add(new BranchSpec(true, new[] { "attn", "self_attn", "mixer" }[style], new[] { "ln_1", "input_layernorm", "norm1" }[style], linears, output, fused, 0,
                    bias, Chance(0.4), inner, invoked));
            }
            else
            {
                bool gated = Chance(0.4);
                var (up, down, gate) = Pick(("c_fc", "c_proj", "c_gate"), ("up_proj", "down_proj", "gate_proj"), ("w1", "w2", "w3"), ("fc1", "fc2", "fc_gate"));
                var linears = gated ? Pick(new[] { gate, up, down }, new[] { up, down, gate }, new[] { down, gate, up }) : Pick(new[] { up, down }, new[] { down, up });
                branches.Add(new BranchSpec(false, new[] { "mlp", "mlp", "ffn" }[style], new[] { "ln_2", "post_attention_layernorm", "norm2" }[style], linears, down, gated,
                    Pick(2, 4), bias, false, inner, invoked));
            }
        }

        var readout = Pick(ReadoutKind.Untied, ReadoutKind.Untied, ReadoutKind.TiedHeadTakesTable, ReadoutKind.TiedTableTakesHead, ReadoutKind.Matmul);
        bool rootGain = Chance(0.15);
        int position = Pick(0, 1, 1, 2);
        var frozenChoices = new List<Frozen> { Frozen.None, Frozen.None, Frozen.None, Frozen.FirstBlockNorm };
        if (position > 0)
        {
            frozenChoices.Add(Frozen.PositionTable);
        }

        if (readout == ReadoutKind.Untied && bias)
        {
            frozenChoices.Add(Frozen.ReadoutBias);
        }

        if (rootGain)
        {
            frozenChoices.Add(Frozen.RootGain);
        }

        var mode = Chance(0.2) ? MultiplierMode.Hooks : MultiplierMode.Fold;
        return new TreeSpec
        {
            Seed = seed,
            Width = width,
            Depth = depth,
            HeadDim = headDim,
            Container = container,
            ContainerName = container == BlockContainer.Siblings ? "block_" : Pick("h", "layers", "blocks", "stages"),
            Stages = stages,
            Wrapper = container != BlockContainer.Siblings && Chance(0.3),
            Branches = branches,
            NormsFirst = Chance(0.3),
            Norm = Pick(NormKind.LayerNorm, NormKind.LayerNormNoBias, NormKind.RmsNorm),
            TableName = Pick("wte", "embed_tokens", "tok_embeddings"),
            Position = position,
            FinalNorm = Chance(0.85),
            Readout = readout,
            ReadoutBias = readout == ReadoutKind.Untied && bias,
            ReadoutName = Pick("lm_head", "head", "output"),
            ReadoutFirst = Chance(0.3),
            RootGain = rootGain,
            MixingBuffer = Chance(0.15),
            MaskBuffer = Chance(0.3),
            Frozen = frozenChoices[r.Next(frozenChoices.Count)],
            Blocks = How(0.3),
            Outer = How(0.25),
            Parameterization = Pick("completep", "completep", "mup", "sp", "depth-mup", "alpha=0.75"),
            AlphaIn = Chance(0.4) ? 1.5 : 1.0,
            AlphaOut = Chance(0.3) ? 2.0 : 1.0,
            Mode = mode,
            SampleForward = Chance(0.5),
            OptimizerFromAllParameters = Chance(0.5),
            DeclareBlocks = Chance(0.25),
            DeclareBranches = Chance(0.15),
            DeclareOutputs = Chance(0.3),
            DeclareReadout = readout != ReadoutKind.Matmul && Chance(0.2),
            DeclareGain = Chance(0.7),
            DeclareLogitsInForward = readout == ReadoutKind.Matmul && Chance(0.4),
            DeclareLogitsFromTable = readout == ReadoutKind.Matmul && Chance(0.6),
            BogusDeclaration = Chance(0.04) ? Pick("no_such_head", "no_such_blocks") : null,
        };
    }
}
