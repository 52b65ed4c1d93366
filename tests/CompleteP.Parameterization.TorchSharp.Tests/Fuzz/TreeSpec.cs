using System.Globalization;

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

/// <summary>How a block arranges its norms around its branches.</summary>
public enum BlockStyle
{
    /// <summary><c>x + F(norm(x))</c> for each branch in turn (GPT-2, LLaMA).</summary>
    PreNorm,

    /// <summary><c>x + post(F(x))</c>: a norm on each branch's output only (OLMo-2; post_attention_layernorm, post_feedforward_layernorm).</summary>
    PostNorm,

    /// <summary><c>x + post(F(pre(x)))</c> (Gemma: input_layernorm, post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm).</summary>
    Sandwich,

    /// <summary><c>x + attn(norm(x)) + mlp(norm(x))</c>, one norm read by both branches (GPT-J, PaLM).</summary>
    Parallel,
}

/// <summary>A norm on the queries and keys inside attention.</summary>
public enum QkNormKind
{
    None,

    /// <summary>q_norm / k_norm over d_head, applied to each head (Qwen3, Gemma 3): TensorRole.QkNorm.</summary>
    PerHead,

    /// <summary>q_norm / k_norm over the whole width, before the heads are split (OLMo-2): a norm inside a branch over the width, a hidden norm.</summary>
    WholeWidth,
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
    bool Scaled, Invocation Inner, Invocation Invoked)
{
    /// <summary>Attention: a QK-norm on the queries and keys.</summary>
    public QkNormKind QkNorm { get; init; }

    /// <summary>MLP: the number of experts of a mixture (router 'gate' width -> experts, ModuleList 'experts' of gated MLPs with <see cref="Linears"/>, top-2 routing); 0 for a plain MLP.</summary>
    public int Experts { get; init; }

    /// <summary>MoE: a shared expert 'shared_expert' (a gated MLP like the others) whose output is added unweighted (DeepSeek, Qwen-MoE).</summary>
    public bool SharedExpert { get; init; }

    /// <summary>The local name of the norm on its output (OLMo-2, Gemma), or null.</summary>
    public string? PostNormName { get; init; }

    /// <summary>The registration order of its children (<see cref="Children"/> permuted), or null for <see cref="Children"/>' order.</summary>
    public IReadOnlyList<string>? Order { get; init; }

    /// <summary>Whether a norm precedes it (<see cref="NormName"/> is empty in an OLMo-2 block).</summary>
    public bool HasPreNorm => NormName.Length > 0;

    public bool IsMoe => Experts > 0;

    /// <summary>Its children in their default registration order: the Linears (then q_norm, k_norm), or an MoE's gate and experts.</summary>
    public IReadOnlyList<string> Children => IsMoe ? SharedExpert ? ["gate", "experts", "shared_expert"] : ["gate", "experts"] : QkNorm != QkNormKind.None ? [.. Linears, "q_norm", "k_norm"] : Linears;
}

/// <summary>A per-branch residual factor (<c>PATTERN.res=FACTOR</c>): the branches whose full module names the glob matches add <c>factor * m_L^-alpha * branch(x)</c>.</summary>
/// <param name="Pattern">A glob over residual-branch module names: <c>*</c> any run of characters (dots included), <c>?</c> one character, matching whole names.</param>
/// <param name="Factor">The factor on the residual multiplier of each branch it matches.</param>
public sealed record ResidualFactor(string Pattern, double Factor)
{
    /// <summary>The entry's text form, <c>*.attn.res=0.5</c>.</summary>
    public override string ToString() => $"{Pattern}.res={Factor.ToString("R", CultureInfo.InvariantCulture)}";
}

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

    /// <summary>How the blocks arrange norms and branches.</summary>
    public BlockStyle Style { get; init; } = BlockStyle.PreNorm;

    /// <summary>The registration order of a block's children (<see cref="BlockChildren"/> permuted), or null for the order <see cref="NormsFirst"/> says.</summary>
    public IReadOnlyList<string>? BlockOrder { get; init; }

    /// <summary>Declare the norms on the branch outputs with .BranchOutputNorms(...) (forced where their names cannot tell: no post_feedforward_layernorm).</summary>
    public bool DeclareOutputNorms { get; init; }

    /// <summary>Per-branch residual factors passed in options.Hyperparameters.Modules (empty for most trees).</summary>
    public IReadOnlyList<ResidualFactor> ResidualFactors { get; init; } = [];

    /// <summary>Whether some children are registered in a drawn permutation: the plan must equal that of the default order.</summary>
    public bool Permuted => BlockOrder is not null || Branches.Any(b => b.Order is not null);

    /// <summary>The same tree with every child registered in its default order.</summary>
    public TreeSpec Unpermuted => this with { BlockOrder = null, Branches = [.. Branches.Select(b => b with { Order = null })] };

    /// <summary>The local names of a block's norms, in forward order.</summary>
    public IReadOnlyList<string> BlockNorms => Branches.SelectMany(b => new[] { b.HasPreNorm ? b.NormName : null, b.PostNormName }).OfType<string>().Distinct().ToList();

    /// <summary>A block's children in forward order (the default permutation when <see cref="NormsFirst"/> is false).</summary>
    public IReadOnlyList<string> BlockChildren => Branches.SelectMany(b => new[] { b.HasPreNorm ? b.NormName : null, b.Name, b.PostNormName }).OfType<string>().Distinct().ToList();

    /// <summary>The full name of the blocks' container (or of the root, for siblings).</summary>
    public string BlocksPath => Wrapper ? "transformer." + ContainerName : ContainerName;

    public override string ToString() =>
        $"seed {Seed}: {Parameterization} {Mode} width {Width} depth {Depth} d_head {HeadDim}; {Container} '{ContainerName}'{(Container == BlockContainer.Stages ? $" x{Stages}" : "")}{(Wrapper ? " in transformer" : "")}; " +
        $"branches [{string.Join(", ", Branches.Select(b => $"{(b.HasPreNorm ? b.NormName + " > " : "")}{b.Name}({string.Join("/", b.Linears)} -> {b.Output}{(b.Bias ? " bias" : "")}{(b.Scaled ? " scaled" : "")}" +
            $"{(b.QkNorm != QkNormKind.None ? $" qk-norm {b.QkNorm}" : "")}{(b.IsMoe ? $" moe x{b.Experts}{(b.SharedExpert ? " + shared" : "")}" : "")}{(b.Order is null ? "" : $" order {string.Join("/", b.Order)}")}, {b.Invoked}/{b.Inner}){(b.PostNormName is null ? "" : " > " + b.PostNormName)}"))}] " +
        $"{(NormsFirst ? "norms first" : "interleaved")} {Norm}; table '{TableName}' position {Position}; final norm {FinalNorm}; readout {Readout} '{ReadoutName}'{(ReadoutBias ? " bias" : "")}{(ReadoutFirst ? " first" : "")}; " +
        $"style {Style}{(BlockOrder is null ? "" : $" order [{string.Join(" ", BlockOrder)}]")}{(DeclareOutputNorms ? " declare output norms" : "")}; " +
        $"gain {RootGain} mixing {MixingBuffer} mask {MaskBuffer} frozen {Frozen}; blocks {Blocks} outer {Outer}; alpha_in {AlphaIn} alpha_out {AlphaOut}; sample {SampleForward}; " +
        $"optimizer from all {OptimizerFromAllParameters}; declare blocks {DeclareBlocks} branches {DeclareBranches} outputs {DeclareOutputs} readout {DeclareReadout} gain {DeclareGain} logits {DeclareLogitsInForward} from table {DeclareLogitsFromTable} bogus {BogusDeclaration ?? "-"}" +
        (ResidualFactors.Count == 0 ? "" : $"; res [{string.Join(", ", ResidualFactors)}]");

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
        var tree = new TreeSpec
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
        return DrawResidualFactors(DrawModern(tree, r));
    }

    /// <summary>
    /// The modern decoder styles on top of a drawn tree (drawn after it, from the same stream): norms on branch outputs
    /// (OLMo-2, Gemma's sandwich), parallel blocks, a QK-norm in attention, an MoE MLP, and children registered in a
    /// random permutation.
    /// </summary>

    private static TreeSpec DrawModern(TreeSpec tree, Random r)
    {
        T Pick<T>(params T[] items) => items[r.Next(items.Length)];
        bool Chance(double p) => r.NextDouble() < p;
        IReadOnlyList<string> Shuffle(IEnumerable<string> items) => items.OrderBy(_ => r.Next()).ToList();

        var style = Pick(BlockStyle.PreNorm, BlockStyle.PreNorm, BlockStyle.PreNorm, BlockStyle.PostNorm, BlockStyle.Sandwich, BlockStyle.Parallel);
        if (style == BlockStyle.Parallel && tree.Branches.Count < 2)
        {
            style = BlockStyle.PreNorm;
        }

        var branches = tree.Branches.Select(b =>
        {
            var x = b;
            if (b.IsAttention && Chance(0.35))
            {
                x = x with { QkNorm = Chance(0.75) ? QkNormKind.PerHead : QkNormKind.WholeWidth };
            }
            else if (!b.IsAttention && Chance(0.3))
            {
                var (up, down, gate) = Pick(("w1", "w2", "w3"), ("up_proj", "down_proj", "gate_proj"), ("c_fc", "c_proj", "c_gate"));
                x = x with
                {
                    // As many experts as the width too: a router width -> width is still a router (a gap the fuzzer found, fixed).
                    Name = Pick(b.Name, "block_sparse_moe", "moe"), Experts = Pick(2, 3, 4), Fused = true,
                    Linears = Pick(new[] { up, down, gate }, new[] { gate, down, up }, new[] { down, gate, up }), Output = down,
                };
                x = x with { SharedExpert = Chance(0.3) };
            }

            return style switch
            {
                BlockStyle.PostNorm => x with { NormName = string.Empty, PostNormName = b.IsAttention ? "post_attention_layernorm" : "post_feedforward_layernorm" },
                BlockStyle.Sandwich => x with
                {
                    NormName = b.IsAttention ? "input_layernorm" : "pre_feedforward_layernorm",
                    PostNormName = b.IsAttention ? "post_attention_layernorm" : "post_feedforward_layernorm",
                },
                BlockStyle.Parallel => x with { NormName = tree.Branches[0].NormName },
                _ => x,
            };
        }).ToList();

        bool post = style is BlockStyle.PostNorm or BlockStyle.Sandwich;
        bool permuted = Chance(0.35);
        if (permuted)
        {
            branches = branches.Select(b => Chance(0.7) ? b with { Order = Shuffle(b.Children) } : b).ToList();
        }

        var drawn = tree with { Style = style, Branches = branches };
        return drawn with
        {
            BlockOrder = permuted ? Shuffle(drawn.BlockChildren) : null,

            // The names tell only where the block has a norm named for after its feed-forward part: else declared.
            DeclareOutputNorms = post && (!branches.Any(b => !b.IsAttention) || Chance(0.25)),
        };
    }

    /// <summary>
    /// Per-branch residual factors for about a quarter of the trees, drawn from a stream of their own (seeded from the seed)
    /// so that every other draw, and so every earlier seed's tree, stays as it was: one or two entries, each a pattern that
    /// selects branches by name (one kind in every block, one block's branch, all of one block's branches, or a kind through
    /// '?'), sometimes one that selects no branch (a norm, an output projection, a misspelled name), which must be refused.
    /// </summary>
    private static TreeSpec DrawResidualFactors(TreeSpec tree)
    {
        var r = new Random(unchecked(tree.Seed ^ 0x5EED_0E5));
        if (r.NextDouble() >= 0.25)
        {
            return tree;
        }

        var factors = new List<ResidualFactor>();
        int count = r.Next(1, 3);
        for (int attempt = 0; factors.Count < count && attempt < 10; attempt++)
        {
            var pattern = ResidualPattern(tree, r);
            if (factors.All(f => f.Pattern != pattern))
            {
                factors.Add(new ResidualFactor(pattern, new[] { 0.5, 2.0, 3.0 }[r.Next(3)]));
            }
        }

        return tree with { ResidualFactors = factors };
    }

    /// <summary>A glob over the tree's residual-branch module names: one that selects some branches, or (one time in ten) one that selects none.</summary>
    private static string ResidualPattern(TreeSpec tree, Random r)
    {
        var branch = tree.Branches[r.Next(tree.Branches.Count)];
        string block = FuzzReference.Block(tree, r.Next(tree.Depth));
        if (r.NextDouble() < 0.1)
        {
            return r.Next(3) switch
            {
                0 => $"*.{branch.Name}.{branch.Output}",
                1 when tree.BlockNorms.Count > 0 => $"*.{tree.BlockNorms[0]}",
                _ => "*.no_such_branch",
            };
        }

        return r.Next(5) switch
        {
            0 or 1 => $"*.{branch.Name}",
            2 => $"{block}.{branch.Name}",
            3 => $"{block}.*",
            _ => $"*?{branch.Name[1..]}",
        };
    }
}
