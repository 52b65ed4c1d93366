using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Step 5 of discovery: every unique parameter tensor (tied weights once, with their other names) and its role.
/// A declared role wins; else the role of the module that owns it (a norm in a block is a hidden norm, a Linear in
/// a block holds a hidden weight and bias, outside the blocks the roles of <see cref="OutsideBlocks"/>); a tensor
/// owned by both an input and the readout (a tied table) is an embedding. A tensor no rule covers is a problem
/// whose message names the declaration that fixes it, with a valid pattern.
/// </summary>
internal static class ParameterClassifier
{
    /// <summary>Every unique parameter with its role.</summary>
    public static IReadOnlyList<DiscoveredParameter> Classify(ModuleTree tree, IReadOnlyList<TreeModule> blocks, IReadOnlyList<ResidualBranch> branches,
        IReadOnlyDictionary<string, TensorRole> moduleRoles, IReadOnlyList<TreeModule> inputs, TreeModule? readout, int width,
        ModelDeclarations declarations, Findings findings)
    {
        var canonical = TensorIdentity.Canonical(tree.Parameters.Select(p => p.Tensor).ToList());
        var groups = Enumerable.Range(0, tree.Parameters.Count).GroupBy(i => canonical[i]).OrderBy(g => g.Key).ToList();
        var parameters = new List<DiscoveredParameter>();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var aliases = group.Select(i => tree.Parameters[i]).ToList();
            var first = aliases[0];
            var owners = aliases.Select(a => tree.Find(a.ModuleName)!).ToList();
            int block = blocks.ToList().FindIndex(b => ModuleTree.IsInside(first.Name, b.Name));
            bool nameSaysBias = first.LocalName.EndsWith("bias", StringComparison.OrdinalIgnoreCase);
            bool isInput = owners.Any(o => inputs.Contains(o));
            bool isReadout = readout is not null && owners.Contains(readout);
            var branch = block < 0 ? null : branches.FirstOrDefault(b => ModuleTree.IsInside(first.Name, b.Name));
            var writes = branches.FirstOrDefault(b => b.OutputProjection is { } op && owners.Any(o => o == op));

            TensorRole? role = null;
            bool isBias = nameSaysBias;
            var declared = declarations.Roles.LastOrDefault(r => aliases.Any(a => r.Matches(a.Name)));
            if (declared is not null)
            {
                role = declared.Role;
                isBias = declared.IsBias ?? nameSaysBias;
                isReadout |= declared.Role == TensorRole.Unembedding && owners.Any(o => ModuleKinds.IsLinear(o.Module));
                isInput |= declared.Role == TensorRole.Embedding;
            }
            else if (owners.Select(o => moduleRoles.TryGetValue(o.Name, out var r) ? r : (TensorRole?)null).Where(r => r is not null).ToList() is { Count: > 0 } ownerRoles)
            {
                role = ownerRoles.Contains(TensorRole.Embedding) ? TensorRole.Embedding : ownerRoles[0];
                if (role == TensorRole.HiddenWeight && isBias)
                {
                    role = TensorRole.HiddenBias;
                }
            }
            else if (block >= 0)
            {
                string pattern = PatternInBlocks(first.Name, blocks[block]);
                if (reported.Add(pattern))
                {
                    var owner = owners[0];
                    findings.Problem($"parameter '{first.Name}' [{Shape(first.Tensor)}] of block module '{owner.Display}' ({owner.TypeName}) is neither a Linear's nor a norm's, so no rule covers it: declare its role, e.g. " +
                                     (first.Tensor.dim() >= 2
                                         ? $".Role(\"{pattern}\", TensorRole.HiddenWeight)."
                                         : $".Role(\"{pattern}\", TensorRole.HiddenNorm) for a per-channel gain or .Role(\"{pattern}\", TensorRole.HiddenBias, isBias: true) for a shift."));
                }
            }
            else if (first.Tensor.dim() >= 2 && first.Tensor.shape[^1] == width && ModuleKinds.IsInputName(first.LocalName))
            {
                role = TensorRole.Embedding;
                isInput = true;
                findings.Info(first.Name, $"a raw [{Shape(first.Tensor)}] parameter named like an embedding, outside the blocks: taken as an embedding table (declare .Role(\"{first.Name}\", ...) if it is not).");
            }
            else if (!owners.Any(o => findings.Reported(o.Name)))
            {
                var owner = owners[0];
                findings.Problem($"parameter '{first.Name}' [{Shape(first.Tensor)}] of '{owner.Display}' ({owner.TypeName}) is outside the blocks and is no embedding's, norm's or Linear's: declare its role, e.g. " +
                                 $".Role(\"{first.Name}\", TensorRole.Embedding) for an input table, TensorRole.FinalNorm for a gain, TensorRole.Unembedding for an output weight.");
            }

            if (role is { } found)
            {
                if (found is TensorRole.HiddenNorm or TensorRole.HiddenWeight or TensorRole.HiddenBias && block < 0 && blocks.Count > 0)
                {
                    findings.Problem($"parameter '{first.Name}' is declared {found}, a role inside the residual blocks, but it is outside them ({string.Join(", ", blocks.Take(2).Select(b => b.Name))}, ...).");
                }

                string shapeKey = block >= 0 ? "#" + first.Name[blocks[block].Name.Length..] : first.Name;
                parameters.Add(new DiscoveredParameter(first.Name, (Parameter)first.Tensor, first.ModuleName, found, isBias, branch?.Name,
                    writes?.Name, isInput, isReadout, aliases.Skip(1).Select(a => a.Name).ToList(), shapeKey));
            }
        }

        return parameters;
    }

    /// <summary>The roles of the modules inside the blocks: norms hold hidden norms, Linears hidden weights (and biases).</summary>
    public static Dictionary<string, TensorRole> BlockModuleRoles(ModuleTree tree, IReadOnlyList<TreeModule> blocks)
    {
        var roles = new Dictionary<string, TensorRole>(StringComparer.Ordinal);
        foreach (var m in blocks.SelectMany(tree.Subtree))
        {
            if (ModuleKinds.IsNorm(m.Module))
            {
                roles[m.Name] = TensorRole.HiddenNorm;
            }
            else if (ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is not null)
            {
                roles[m.Name] = TensorRole.HiddenWeight;
            }
        }

        return roles;
    }

    /// <summary>A pattern that matches the same parameter in every block.</summary>
    private static string PatternInBlocks(string name, TreeModule block)
    {
        int dot = block.Name.LastIndexOf('.');
        string prefix = block.Name[..(dot + 1)];
        string local = block.LocalName;
        int digits = local.Length - local.TrimEnd("0123456789".ToCharArray()).Length;
        return prefix + local[..^digits] + "*" + name[block.Name.Length..];
    }

    private static string Shape(Tensor t) => string.Join("x", t.shape);
}
