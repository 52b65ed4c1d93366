using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Finds the roles of a model's parameters and its residual branches from the module tree:
/// the blocks are the largest ModuleList / Sequential of identical composite modules; inside a
/// block, Linears are hidden weights and biases and norms are hidden norms, and each direct child
/// of a block that holds a weight is a residual branch; outside the blocks, embeddings (and Linears
/// registered before the blocks) are inputs, norms are final norms, and the Linear registered after
/// the blocks is the readout. Declarations win over every inference.
/// </summary>
internal static class StructureDiscovery
{
    public static ModelStructure Discover(nn.Module model, ModelDeclarations declarations)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(declarations);
        var problems = new List<string>();

        // Every module in registration order, depth first, the root first. (TorchSharp's named_modules()
        // leaves the root out and walks breadth first, which loses "registered after the blocks".)
        var modules = new List<(string Name, nn.Module Module)>();
        void Walk(string name, nn.Module module)
        {
            modules.Add((name, module));
            foreach (var (child, childModule) in module.named_children())
            {
                Walk(Join(name, child), childModule);
            }
        }

        Walk(string.Empty, model);
        var moduleIndex = modules.Select((m, i) => (m.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

        // The owner of each parameter name.
        var owner = new Dictionary<string, (string Name, nn.Module Module)>(StringComparer.Ordinal);
        foreach (var (name, module) in modules)
        {
            foreach (var (local, _) in module.named_parameters(recurse: false))
            {
                owner[Join(name, local)] = (name, module);
            }
        }

        // Blocks.
        string? blocksName = declarations.BlocksName ?? InferBlocks(modules, problems);
        if (blocksName is not null && !moduleIndex.ContainsKey(blocksName))
        {
            problems.Add($"Declarations.Blocks(\"{blocksName}\") names no module; modules are: {string.Join(", ", modules.Skip(1).Select(m => m.Name).Take(30))}.");
            blocksName = null;
        }

        if (blocksName is null)
        {
            throw new ParameterClassificationException(problems);
        }

        var blocks = modules[moduleIndex[blocksName]].Module.named_children().Select(c => Join(blocksName, c.Item1)).ToList();
        string blocksPrefix = blocksName + ".";
        int lastBlockModule = modules.FindLastIndex(m => m.Name.StartsWith(blocksPrefix, StringComparison.Ordinal));

        // Residual branches.
        var branches = new List<(string Name, nn.Module Module)>();
        foreach (var block in blocks)
        {
            var children = modules[moduleIndex[block]].Module.named_children().ToList();
            var names = declarations.ResidualBranchNames.Count > 0
                ? declarations.ResidualBranchNames
                : children.Where(c => HoldsWeight(c.Item2)).Select(c => c.Item1).ToList();
            if (names.Count == 0)
            {
                problems.Add($"block '{block}' has no child holding a weight: declare its residual branches with .ResidualBranches(\"attn\", \"mlp\").");
            }

            foreach (var local in names)
            {
                var full = Join(block, local);
                if (!moduleIndex.TryGetValue(full, out int index))
                {
                    problems.Add($"block '{block}' has no child '{local}' (declared residual branch); its children are: {string.Join(", ", children.Select(c => c.Item1))}.");
                    continue;
                }

                var branch = modules[index].Module;
                if (branch is not nn.Module<Tensor, Tensor>)
                {
                    problems.Add($"residual branch '{full}' ({branch.GetType().Name}) is not a Module<Tensor, Tensor>, so its output cannot be scaled by a hook: wrap it in ResidualBranch, or declare other branches.");
                }

                branches.Add((full, branch));
            }
        }

        // Readout and inputs outside the blocks.
        (string Name, nn.Module Module)? readout = null;
        if (declarations.ReadoutName is { } readoutName)
        {
            if (moduleIndex.TryGetValue(readoutName, out int index))
            {
                readout = modules[index];
            }
            else
            {
                problems.Add($"Declarations.Readout(\"{readoutName}\") names no module.");
            }
        }

        var outside = modules.Select((m, i) => (m.Name, m.Module, Index: i))
            .Where(m => m.Name.Length > 0 && m.Name != blocksName && !m.Name.StartsWith(blocksPrefix, StringComparison.Ordinal))
            .ToList();
        if (declarations.ReadoutName is null)
        {
            var after = outside.Where(m => IsLinear(m.Module) && m.Index > lastBlockModule).ToList();
            if (after.Count == 1)
            {
                readout = (after[0].Name, after[0].Module);
            }
            else if (after.Count > 1)
            {
                problems.Add($"{after.Count} Linears follow the blocks ({string.Join(", ", after.Select(a => a.Name))}): declare the readout with .Readout(\"name\").");
            }
        }

        var inputs = outside.Where(m => IsEmbedding(m.Module) || (IsLinear(m.Module) && m.Index < moduleIndex[blocksName] && m.Name != readout?.Name))
            .Select(m => (m.Name, m.Module)).ToList();

        // Parameters, each tensor once, in registration order: tied weights keep their first name and
        // list the others (a module's own parameters show a tie even where named_parameters() hides it).
        var all = new List<(string Name, Parameter Tensor)>();
        foreach (var (moduleName, module) in modules)
        {
            all.AddRange(module.named_parameters(recurse: false).Select(p => (Join(moduleName, p.name), p.parameter)));
        }

        var canonical = TensorIdentity.Canonical(all.Select(p => (Tensor)p.Tensor).ToList());
        var unique = new List<(string Name, Parameter Tensor, List<string> Aliases)>();
        var uniqueIndex = new Dictionary<int, int>();
        for (int i = 0; i < all.Count; i++)
        {
            if (uniqueIndex.TryGetValue(canonical[i], out int u))
            {
                unique[u].Aliases.Add(all[i].Name);
            }
            else
            {
                uniqueIndex[canonical[i]] = unique.Count;
                unique.Add((all[i].Name, all[i].Tensor, []));
            }
        }

        var branchNames = branches.Select(b => b.Name).ToList();
        var lastLinearOfBranch = branches.ToDictionary(
            b => b.Name,
            b => modules.Where(m => m.Name.StartsWith(b.Name + ".", StringComparison.Ordinal) && IsLinear(m.Module)).Select(m => m.Name).LastOrDefault()
                 ?? (IsLinear(b.Module) ? b.Name : null));

        var parameters = new List<DiscoveredParameter>();
        foreach (var (name, tensor, aliases) in unique)
        {
            var (moduleName, module) = owner.TryGetValue(name, out var o) ? o : (string.Empty, model);
            string local = name[(moduleName.Length == 0 ? 0 : moduleName.Length + 1)..];
            bool inBlock = name.StartsWith(blocksPrefix, StringComparison.Ordinal);
            string? branch = branchNames.FirstOrDefault(b => name.StartsWith(b + ".", StringComparison.Ordinal));
            bool nameSaysBias = local.EndsWith("bias", StringComparison.OrdinalIgnoreCase);
            string shapeKey = inBlock ? blocksPrefix + "*" + name[(blocks.First(b => name.StartsWith(b + ".", StringComparison.Ordinal)).Length)..] : name;

            TensorRole? role = null;
            bool isBias = nameSaysBias;
            var declared = declarations.Roles.LastOrDefault(r => r.Matches(name) || aliases.Any(r.Matches));
            if (declared is not null)
            {
                role = declared.Role;
                isBias = declared.IsBias ?? nameSaysBias;
            }
            else if (inBlock)
            {
                role = IsNorm(module) ? TensorRole.HiddenNorm
                    : IsLinear(module) || tensor.dim() == 2 && !IsEmbedding(module) ? (nameSaysBias ? TensorRole.HiddenBias : TensorRole.HiddenWeight)
                    : null;
                if (role is null)
                {
                    problems.Add($"parameter '{name}' [{string.Join("x", tensor.shape)}] in block module '{moduleName}' ({module.GetType().Name}) is neither a Linear's nor a norm's: declare it, e.g. .Role(\"{Pattern(name, blocks)}\", TensorRole.HiddenBias).");
                }
                else if (branch is null && role != TensorRole.HiddenNorm)
                {
                    problems.Add($"parameter '{name}' is a hidden {(isBias ? "bias" : "weight")} outside every residual branch ({string.Join(", ", branchNames.Take(2))}, ...): declare the residual branches with .ResidualBranches(...).");
                }
            }
            else if (IsEmbedding(module) || inputs.Any(i => i.Name == moduleName))
            {
                role = TensorRole.Embedding;
            }
            else if (IsNorm(module))
            {
                role = TensorRole.FinalNorm;
            }
            else if (readout is { } r && moduleName == r.Name)
            {
                role = TensorRole.Unembedding;
            }
            else
            {
                problems.Add($"parameter '{name}' [{string.Join("x", tensor.shape)}] of '{(moduleName.Length == 0 ? "(root)" : moduleName)}' ({module.GetType().Name}) is outside the blocks and is no embedding, norm or readout: declare it, e.g. .Role(\"{name}\", TensorRole.Embedding) or .Readout(\"{moduleName}\").");
            }

            if (role is { } found)
            {
                bool isOutputProjection = found == TensorRole.HiddenWeight && branch is not null && lastLinearOfBranch[branch] == moduleName;
                parameters.Add(new DiscoveredParameter(name, tensor, moduleName, found, isBias, inBlock ? branch : null, isOutputProjection, aliases, shapeKey));
            }
        }

        if (problems.Count > 0)
        {
            throw new ParameterClassificationException(problems);
        }

        var attention = modules.Select(m => m.Module).OfType<IScaledAttention>().ToList();
        return new ModelStructure(blocksName, blocks, branches, readout, inputs, attention, parameters, InferWidth(parameters));
    }

    /// <summary>The width: the size of the first hidden norm's gain, else the embedding dimension, else the first hidden weight's fan-in.</summary>
    private static int InferWidth(IReadOnlyList<DiscoveredParameter> parameters)
    {
        var norm = parameters.FirstOrDefault(p => p.Role == TensorRole.HiddenNorm && !p.IsBias && p.Tensor.dim() == 1);
        if (norm is not null)
        {
            return (int)norm.Tensor.shape[0];
        }

        var embedding = parameters.FirstOrDefault(p => p.Role == TensorRole.Embedding && p.Tensor.dim() == 2);
        if (embedding is not null)
        {
            return (int)embedding.Tensor.shape[1];
        }

        return (int)(parameters.FirstOrDefault(p => p.Role == TensorRole.HiddenWeight)?.FanIn ?? 0);
    }

    private static string? InferBlocks(List<(string Name, nn.Module Module)> modules, List<string> problems)
    {
        var candidates = modules
            .Where(m => m.Module is Sequential || IsGenericOf(m.Module, typeof(ModuleList<>)) || IsGenericOf(m.Module, typeof(ModuleDict<>)))
            .Select(m => (m.Name, Children: m.Module.named_children().Select(c => c.Item2).ToList()))
            .Where(c => c.Children.Count > 0
                        && c.Children.All(x => x.GetType() == c.Children[0].GetType())
                        && c.Children.All(x => x.named_children().Any() && HoldsWeight(x)))
            .ToList();
        if (candidates.Count == 0)
        {
            problems.Add("no ModuleList or Sequential of identical blocks holding weights was found: declare the blocks with .Blocks(\"name\").");
            return null;
        }

        int most = candidates.Max(c => c.Children.Count);
        var best = candidates.Where(c => c.Children.Count == most).ToList();
        if (best.Count > 1)
        {
            problems.Add($"several containers of {most} identical blocks ({string.Join(", ", best.Select(b => b.Name))}): declare the blocks with .Blocks(\"name\").");
            return null;
        }

        return best[0].Name;
    }

    private static bool IsGenericOf(object o, Type generic)
    {
        for (var t = o.GetType(); t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == generic)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HoldsWeight(nn.Module module) => module.named_parameters().Any(p => p.Item2.dim() >= 2);

    private static bool IsLinear(nn.Module module) => module is Linear || module.GetType().Name.Contains("Linear", StringComparison.Ordinal);

    private static bool IsEmbedding(nn.Module module) => module is Embedding || module.GetType().Name.Contains("Embedding", StringComparison.Ordinal);

    private static bool IsNorm(nn.Module module) => module.GetType().Name.Contains("Norm", StringComparison.Ordinal)
                                                    && module.named_parameters(recurse: false).All(p => p.Item2.dim() == 1);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>A pattern that matches the same parameter in every block.</summary>
    private static string Pattern(string name, IReadOnlyList<string> blocks)
    {
        var block = blocks.FirstOrDefault(b => name.StartsWith(b + ".", StringComparison.Ordinal));
        if (block is null)
        {
            return name;
        }

        int dot = block.LastIndexOf('.');
        return block[..(dot + 1)] + "*" + name[block.Length..];
    }
}
