namespace CompleteP;

/// <summary>A declared role for the parameters whose full names match a glob pattern.</summary>
/// <param name="Pattern">A full parameter name with <c>*</c> (any run of characters) and <c>?</c> (one character).</param>
/// <param name="Role">The role.</param>
/// <param name="IsBias">Whether the tensors are biases; null infers it from a name ending in <c>bias</c>.</param>
internal sealed record RoleDeclaration(string Pattern, TensorRole Role, bool? IsBias = null)
{
    /// <summary>Whether a parameter name matches the pattern.</summary>
    /// <param name="parameterName">The full parameter name.</param>
    /// <returns>True when it matches.</returns>
    public bool Matches(string parameterName) => Discovery.Glob.Matches(Pattern, parameterName);
}
