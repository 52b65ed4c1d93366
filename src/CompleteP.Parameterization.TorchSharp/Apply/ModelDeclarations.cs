namespace CompleteP;

/// <summary>
/// Explicit statements about a model's structure, for where inference is ambiguous. Every
/// declaration wins over inference. Immutable: each method returns a new value.
/// </summary>
/// <example>
/// <code>
/// var declarations = ModelDeclarations.None
///     .Blocks("layers")                                  // the ModuleList / Sequential of repeated blocks (or a pattern: "block_*")
///     .ResidualBranches("mixer", "ffn")                  // modules of each block whose output is added to the residual stream
///     .OutputProjections("mixer.o_proj", "ffn.w_out")    // the Linear that writes each branch's output
///     .Readout("head")                                   // the Linear that maps the width to the logits
///     .Role("*.gate_scale", TensorRole.HiddenBias);
/// </code>
/// </example>
public sealed record ModelDeclarations
{
    /// <summary>No declarations: everything is inferred.</summary>
    public static ModelDeclarations None { get; } = new();

    /// <summary>The name (as in <c>named_modules()</c>) of the container of repeated blocks, or null to infer it.</summary>
    internal string? BlocksName { get; init; }

    /// <summary>The names, relative to a block, of its residual branches; empty to infer them.</summary>
    internal IReadOnlyList<string> ResidualBranchNames { get; init; } = [];

    /// <summary>The names or patterns (<c>*</c>), relative to a block, of the Linears that write the residual branches' outputs; empty to infer them.</summary>
    internal IReadOnlyList<string> OutputProjectionNames { get; init; } = [];

    /// <summary>
    /// Whether the model's own forward multiplies its logits by <c>plan.Multipliers.Output</c> (for a head computed
    /// from the embedding table, <c>x @ wte.weight.T</c>, which no module holds).
    /// </summary>
    internal bool OutputMultiplierInForward { get; init; }

    /// <summary>The name of the readout (unembedding) module, or null to infer it.</summary>
    internal string? ReadoutName { get; init; }

    /// <summary>Roles declared for parameters whose full names match a pattern.</summary>
    internal IReadOnlyList<RoleDeclaration> Roles { get; init; } = [];

    /// <summary>Declares the repeated residual blocks: their container, or a pattern that matches the blocks themselves.</summary>
    /// <param name="containerName">The container's name, e.g. <c>transformer.h</c>; or a pattern with <c>*</c> such as <c>block_*</c> for blocks registered without a container.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations Blocks(string containerName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(containerName);
        return this with { BlocksName = containerName };
    }

    /// <summary>
    /// Declares the residual branches of every block: every module whose output is added to the residual stream
    /// (declare them all; a module holding weights left out is refused).
    /// </summary>
    /// <param name="childNames">Names relative to a block, e.g. <c>attn</c>, <c>mlp</c>; nested names such as <c>self_attn.o_proj</c> are allowed.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations ResidualBranches(params string[] childNames)
    {
        ArgumentNullException.ThrowIfNull(childNames);
        if (childNames.Length == 0 || childNames.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("ResidualBranches needs at least one non-empty child name.", nameof(childNames));
        }

        return this with { ResidualBranchNames = childNames.ToArray() };
    }

    /// <summary>
    /// Declares the Linear that writes each residual branch's output (where a branch holds several Linears that map
    /// to the width, e.g. q_proj and o_proj): the residual multiplier is folded into it.
    /// </summary>
    /// <param name="names">Names relative to a block, e.g. <c>self_attn.o_proj</c>, <c>mlp.down_proj</c>; a pattern such as <c>moe.experts.*.w2</c> names every Linear of a branch that writes its output (MoE experts).</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations OutputProjections(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0 || names.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("OutputProjections needs at least one non-empty name.", nameof(names));
        }

        return this with { OutputProjectionNames = names.ToArray() };
    }

    /// <summary>
    /// Declares that the model's forward multiplies its logits by <c>plan.Multipliers.Output</c> itself, because no
    /// module computes them (GPT-2 ports that take <c>x @ wte.weight.T</c>). Without it such a model is refused
    /// under muP and CompleteP, whose logits need the multiplier <c>alpha_out / m_N</c>.
    /// </summary>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations OutputMultiplierAppliedInForward() => this with { OutputMultiplierInForward = true };

    /// <summary>Whether the logits are declared to come from the embedding table (see <see cref="LogitsFromEmbeddingTable"/>).</summary>
    internal bool LogitsFromEmbedding { get; init; }

    /// <summary>
    /// Declares that the forward computes the logits from the embedding table after the final norm
    /// (<c>logits = matmul(ln_f(x), wte.weight.T)</c>, as GPT-2 ports do), with no readout module. The unembedding
    /// multiplier is then folded into the gain and shift of the final norm (the norm after the last block), which is exact
    /// when that norm's output feeds only the logits. The model's code is not changed.
    /// </summary>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations LogitsFromEmbeddingTable() => this with { LogitsFromEmbedding = true };

    /// <summary>The declared width N (the size of the residual stream), or null to infer it.</summary>
    internal int? DeclaredWidth { get; init; }

    /// <summary>The declared depth L (what m_L counts), or null to count the blocks.</summary>
    internal int? DeclaredDepth { get; init; }

    /// <summary>The names, relative to a block, of norms that act on a residual branch's output (<c>x + norm(branch(x))</c>); empty to infer them.</summary>
    internal IReadOnlyList<string> BranchOutputNormNames { get; init; } = [];

    /// <summary>
    /// Declares the width N, the size of the residual stream, for a model whose width inference cannot tell (it is read
    /// from the embedding's output and the norms that act on the residual stream; a refusal says when they disagree).
    /// </summary>
    /// <param name="width">The width, at least 1.</param>
    /// <returns>The declarations with this one added.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is less than 1.</exception>
    public ModelDeclarations Width(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        return this with { DeclaredWidth = width };
    }

    /// <summary>
    /// Declares the depth L that the depth multiplier m_L counts, where it is not the number of blocks (a block module
    /// that holds two transformer layers, say). The depth rules count residual blocks of two branches each (Table 1).
    /// </summary>
    /// <param name="depth">The depth, at least 1.</param>
    /// <returns>The declarations with this one added.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="depth"/> is less than 1.</exception>
    public ModelDeclarations Depth(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        return this with { DeclaredDepth = depth };
    }

    /// <summary>
    /// Declares the norms that act on residual branches' outputs (OLMo-2's <c>x + norm(attn(x))</c>, the second norm of
    /// Gemma's sandwich): the residual multiplier is folded into their gain and shift, since a multiplier folded into
    /// the branch's last Linear would be undone by the norm. Inferred from names such as <c>post_feedforward_layernorm</c>
    /// when not declared.
    /// </summary>
    /// <param name="names">Names relative to a block, one per branch, e.g. <c>post_attention_layernorm</c>, <c>post_feedforward_layernorm</c>.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations BranchOutputNorms(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0 || names.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("BranchOutputNorms needs at least one non-empty name.", nameof(names));
        }

        return this with { BranchOutputNormNames = names.ToArray() };
    }

    /// <summary>Declares the readout (unembedding) module.</summary>
    /// <param name="moduleName">Its name in <c>named_modules()</c>, e.g. <c>lm_head</c>.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations Readout(string moduleName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(moduleName);
        return this with { ReadoutName = moduleName };
    }

    /// <summary>Declares the role of every parameter whose full name matches a pattern.</summary>
    /// <param name="parameterPattern">A full parameter name, with <c>*</c> for any run of characters and <c>?</c> for one.</param>
    /// <param name="role">The role.</param>
    /// <param name="isBias">Whether those tensors are biases (initialized to 0); null infers it from a name ending in <c>bias</c>.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations Role(string parameterPattern, TensorRole role, bool? isBias = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(parameterPattern);
        return this with { Roles = [.. Roles, new RoleDeclaration(parameterPattern, role, isBias)] };
    }

    /// <summary>Value equality, the lists compared element by element.</summary>
    /// <param name="other">The other declarations.</param>
    /// <returns>True when every declaration is equal.</returns>
    public bool Equals(ModelDeclarations? other) =>
        other is not null && BlocksName == other.BlocksName && ResidualBranchNames.SequenceEqual(other.ResidualBranchNames)
        && OutputProjectionNames.SequenceEqual(other.OutputProjectionNames) && OutputMultiplierInForward == other.OutputMultiplierInForward
        && LogitsFromEmbedding == other.LogitsFromEmbedding && ReadoutName == other.ReadoutName && Roles.SequenceEqual(other.Roles)
        && DeclaredWidth == other.DeclaredWidth && DeclaredDepth == other.DeclaredDepth && BranchOutputNormNames.SequenceEqual(other.BranchOutputNormNames);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BlocksName, ResidualBranchNames.Count, OutputProjectionNames.Count, OutputMultiplierInForward, LogitsFromEmbedding, ReadoutName, Roles.Count);
}
