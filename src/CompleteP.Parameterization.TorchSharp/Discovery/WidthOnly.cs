namespace CompleteP.Discovery;

/// <summary>
/// Discovery for a model without residual blocks (an MLP, a Sequential of Linears, as in microsoft/mup's own tests):
/// width-only muP applies. Its Linears, in registration order: the first is the input layer (unless the model has
/// embeddings), the last the readout (unless declared), the rest hidden weights; norms are hidden norms. Depth rules
/// (residual multipliers) have nothing to act on, so only SP and muP are offered for such a model.
/// </summary>
internal static class WidthOnly
{
    /// <summary>The roles of the model's modules, its inputs and readout, and its width (the readout's fan-in).</summary>
    public static (Dictionary<string, TensorRole> Roles, IReadOnlyList<TreeModule> Inputs, TreeModule? Readout, int Width) Find(
        ModuleTree tree, ModelDeclarations declarations, Findings findings)
    {
        var roles = new Dictionary<string, TensorRole>(StringComparer.Ordinal);
        var linears = tree.Modules.Where(m => ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is not null).ToList();
        var embeddings = tree.Modules.Where(m => ModuleKinds.IsEmbedding(m.Module)).ToList();
        var readout = declarations.ReadoutName is { } r ? tree.Find(r) : linears.LastOrDefault();
        if (readout is null || ModuleKinds.LinearShape(readout.Module) is null)
        {
            findings.Problem(declarations.ReadoutName is null
                ? "the model has no residual blocks and no Linear to read out from: declare the blocks with .Blocks(\"name\") or the readout with .Readout(\"name\")."
                : $".Readout(\"{declarations.ReadoutName}\") names no Linear.");
            return (roles, [], null, 0);
        }

        var inputs = embeddings.Count > 0 ? embeddings : linears.Where(l => l != readout).Take(1).ToList();
        foreach (var m in tree.Modules)
        {
            if (m == readout)
            {
                roles[m.Name] = TensorRole.Unembedding;
            }
            else if (inputs.Contains(m))
            {
                roles[m.Name] = TensorRole.Embedding;
            }
            else if (ModuleKinds.IsNorm(m.Module))
            {
                roles[m.Name] = TensorRole.HiddenNorm;
            }
            else if (linears.Contains(m))
            {
                roles[m.Name] = TensorRole.HiddenWeight;
            }
        }

        int width = (int)ModuleKinds.LinearShape(readout.Module)!.Value.In;
        findings.Info("(model)", $"no residual blocks: a width-only network ({string.Join(", ", inputs.Select(i => i.Name))} input, {linears.Count(l => roles.GetValueOrDefault(l.Name) == TensorRole.HiddenWeight)} hidden Linear(s), readout '{readout.Name}'), width {width}.");
        return (roles, inputs, readout, width);
    }
}
