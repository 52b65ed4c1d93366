
namespace CompleteP;

/// <summary>
/// Explicit statements about a model's structure, for where inference is ambiguous. Every
/// declaration wins over inference. Immutable: each method returns a new value.
/// </summary>
/// <example>
/// <code>
/// var declarations = ModelDeclarations.None
///     .Blocks("layers")                    // the ModuleList / Sequential of repeated blocks
///     .ResidualBranches("mixer", "ffn")    // children of each block whose output is added to the residual stream
///     .Readout("head")                     // the module that maps the width to the output space
///     .Role("*.gate_scale", TensorRole.HiddenBias);
/// </code>
/// </example>
public sealed record ModelDeclarations
{
    /// <summary>No declarations: everything is inferred.</summary>
    public static ModelDeclarations None { get; } = new();

    /// <summary>The name (as in <c>named_modules()</c>) of the container of repeated blocks, or null to infer it.</summary>
    public string? BlocksName { get; init; }

    /// <summary>The names, relative to a block, of its residual branches; empty to infer them.</summary>
    public IReadOnlyList<string> ResidualBranchNames { get; init; } = [];

    /// <summary>The name of the readout (unembedding) module, or null to infer it.</summary>
    public string? ReadoutName { get; init; }

    /// <summary>Roles declared for parameters whose full names match a pattern.</summary>
    public IReadOnlyList<RoleDeclaration> Roles { get; init; } = [];

    /// <summary>Declares the container of repeated blocks.</summary>
    /// <param name="containerName">Its name in <c>named_modules()</c>, e.g. <c>transformer.h</c>.</param>
    /// <returns>The declarations with this one added.</returns>
    public ModelDeclarations Blocks(string containerName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(containerName);
        return this with { BlocksName = containerName };
    }

    /// <summary>Declares the residual branches of every block.</summary>
    /// <param name="childNames">Names relative to a block, e.g. <c>attn</c>, <c>mlp</c>.</param>
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
}
