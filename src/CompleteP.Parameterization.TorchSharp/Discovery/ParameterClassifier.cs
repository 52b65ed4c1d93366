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
            var writes = branches.FirstOrDefault(b => b.Writers.Any(w => owners.Contains(w)));

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
                if (found is TensorRole.HiddenNorm or TensorRole.HiddenWeight or TensorRole.HiddenBias or TensorRole.QkNorm or TensorRole.BlockReadout && block < 0 && blocks.Count > 0)
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

    /// <summary>
    /// The roles of the modules inside the blocks, by which of their dimensions scale with width (muP's classification;
    /// docs/rules.md): a norm holds a hidden norm, unless it sits inside a branch over fewer features than the width, a
    /// divisor of it (a QK-norm over d_head: no dimension scales); a Linear holds a hidden weight (and bias), unless its
    /// fan-out is the number of experts beside it (an MoE router, width -> experts: output-like, a block readout).
    /// </summary>
    public static Dictionary<string, TensorRole> BlockModuleRoles(ModuleTree tree, IReadOnlyList<TreeModule> blocks, int width, Findings findings)
    {
        var roles = new Dictionary<string, TensorRole>(StringComparer.Ordinal);
        var qkNorms = new List<(string Local, long Size)>();
        var routers = new List<(string Local, long Experts, string Container)>();
        foreach (var block in blocks)
        {
            foreach (var m in tree.Subtree(block))
            {
                if (ModuleKinds.IsNorm(m.Module))
                {
                    long size = tree.OwnParameters(m).FirstOrDefault()?.Tensor.shape[0] ?? width;
                    bool qk = m.Parent != block.Index && size != width && size > 0 && width % size == 0;
                    roles[m.Name] = qk ? TensorRole.QkNorm : TensorRole.HiddenNorm;
                    if (qk && block == blocks[0])
                    {
                        qkNorms.Add((m.Name[(block.Name.Length + 1)..], size));
                    }
                }
                else if (ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is var (_, fanOut))
                {
                    var experts = BranchFinder.ExpertsRouted(tree, m, width);
                    roles[m.Name] = experts is null ? TensorRole.HiddenWeight : TensorRole.BlockReadout;
                    if (experts is not null && block == blocks[0])
                    {
                        routers.Add((m.Name[(block.Name.Length + 1)..], fanOut, experts.Name[(block.Name.Length + 1)..]));
                    }
                }
            }
        }

        if (qkNorms.Count > 0)
        {
            findings.Info(blocks[0].Name, $"{string.Join(", ", qkNorms.Select(q => $"'{q.Local}'"))}: norm(s) over {string.Join(", ", qkNorms.Select(q => q.Size).Distinct())} features inside a branch, a divisor of the width {width} " +
                                          "(QK-norm over d_head): no dimension scales with width, so the QK-norm rule (no width factor on the learning rate or epsilon; Complete(d)P).");
        }

        if (routers.Count > 0)
        {
            findings.Info(blocks[0].Name, $"{string.Join(", ", routers.Select(r => $"'{r.Local}' (width -> {r.Experts}, beside the {r.Experts} experts of '{r.Container}')"))}: " +
                                          "a router, output-like (only its fan-in scales with width): the readout's width rule in the block's depth regime, its logits x m_N^-1 (docs/rules.md).");
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

    private static string Shape(Tensor t) => Listing.Shape(t.shape);
}
