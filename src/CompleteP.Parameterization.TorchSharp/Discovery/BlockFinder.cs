using System.Text.RegularExpressions;

namespace CompleteP.Discovery;

/// <summary>
/// Step 1 of discovery: the repeated residual blocks. Declared (<c>.Blocks("transformer.h")</c> names their
/// container, <c>.Blocks("block_*")</c> a pattern matching the blocks themselves), or inferred: containers
/// (ModuleList, Sequential, ModuleDict) of composite modules of one type that hold weights, and runs of sibling
/// modules of one type named with a trailing index (<c>block_0</c>, <c>block_1</c>, ...); the outermost, largest
/// such group wins. None found is not an error here: width-only models (an MLP) have no blocks.
/// </summary>
internal static partial class BlockFinder
{
    [GeneratedRegex(@"^(.*?)(\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Indexed();

    /// <summary>The blocks, in order, with a description of where they were found; an empty list when there are none.</summary>
    public static (string Description, IReadOnlyList<TreeModule> Blocks) Find(ModuleTree tree, ModelDeclarations declarations, Findings findings)
    {
        var (description, blocks) = declarations.BlocksName is { } declared ? Declared(tree, declared, findings) : Inferred(tree, findings);
        return Flatten(tree, description, blocks, findings);
    }

    /// <summary>
    /// Blocks nested in stage containers (a ModuleList of ModuleLists of blocks): the containers are not blocks, the
    /// modules inside them are (taken as blocks, the stages' lists hold the model's whole depth and their "branches" would
    /// be whole blocks, with the wrong depth and every residual multiplier in the wrong place).
    /// </summary>
    private static (string, IReadOnlyList<TreeModule>) Flatten(ModuleTree tree, string description, IReadOnlyList<TreeModule> blocks, Findings findings)
    {
        while (blocks.Count > 0 && blocks.All(b => ModuleKinds.IsContainer(b.Module)))
        {
            var inner = blocks.SelectMany(tree.Children).ToList();
            if (inner.Count == 0 || inner.Any(c => c.Module.GetType() != inner[0].Module.GetType() || !ModuleKinds.HoldsWeight(c.Module)))
            {
                break;
            }

            string nested = description.Contains('*', StringComparison.Ordinal) ? description + ".*" : description + ".*.*";
            findings.Info(nested, $"the {blocks.Count} modules of '{description}' are containers ({blocks[0].TypeName}) of blocks: the {inner.Count} {inner[0].TypeName} modules inside them are the residual blocks.");
            (description, blocks) = (nested, inner);
        }

        return (description, blocks);
    }

    private static (string, IReadOnlyList<TreeModule>) Declared(ModuleTree tree, string declared, Findings findings)
    {
        if (Glob.HasWildcard(declared))
        {
            var matches = tree.Modules.Where(m => m.Name.Length > 0 && Glob.Matches(declared, m.Name)).ToList();
            matches = matches.Where(m => !matches.Any(o => o != m && ModuleTree.IsInside(m.Name, o.Name))).ToList();
            if (matches.Count == 0)
            {
                findings.Problem($".Blocks(\"{declared}\") matches no module; modules are: {Some(tree)}.");
            }

            return (declared, matches);
        }

        var container = tree.Find(declared);
        if (container is null || container.Name.Length == 0)
        {
            findings.Problem($".Blocks(\"{declared}\") names no module; modules are: {Some(tree)}.");
            return (declared, []);
        }

        var blocks = tree.Children(container).ToList();
        if (blocks.Count == 0)
        {
            findings.Problem($".Blocks(\"{declared}\") names '{declared}' ({container.TypeName}), which has no child modules, so it holds no blocks: " +
                             "name the container of the repeated blocks (a ModuleList, Sequential or ModuleDict such as \"transformer.h\"), or a pattern matching the blocks themselves (\"block_*\").");
        }
        else if (!blocks.Any(b => ModuleKinds.HoldsWeight(b.Module)))
        {
            findings.Problem($".Blocks(\"{declared}\") names '{declared}', whose children ({string.Join(", ", blocks.Take(5).Select(b => b.LocalName))}) hold no weights: name the container of the repeated residual blocks.");
        }

        return (declared, blocks);
    }

    private static (string, IReadOnlyList<TreeModule>) Inferred(ModuleTree tree, Findings findings)
    {
        static bool IsBlock(TreeModule m, ModuleTree t) => t.Children(m).Any() && ModuleKinds.HoldsWeight(m.Module) && !ModuleKinds.IsNative(m.Module);
        var candidates = new List<(string Description, List<TreeModule> Blocks)>();
        var experts = new List<(TreeModule Container, TreeModule Router)>();
        foreach (var parent in tree.Modules)
        {
            var children = tree.Children(parent).ToList();
            if (children.Count == 0)
            {
                continue;
            }

            if (ModuleKinds.IsContainer(parent.Module))
            {
                if (children.All(c => c.Module.GetType() == children[0].Module.GetType() && IsBlock(c, tree)))
                {
                    if (Router(tree, parent, children) is { } router)
                    {
                        experts.Add((parent, router));
                    }
                    else
                    {
                        candidates.Add((parent.Name, children));
                    }
                }

                continue;
            }

            // Sibling runs: block_0, block_1, ... of one type registered straight on a module.
            foreach (var run in children.Where(c => IsBlock(c, tree)).GroupBy(c => (Indexed().Match(c.LocalName) is { Success: true } m ? m.Groups[1].Value : null, c.Module.GetType()))
                         .Where(g => g.Key.Item1 is not null && g.Count() >= 2))
            {
                candidates.Add((ModuleTree.Join(parent.Name, run.Key.Item1 + "*"), run.ToList()));
            }
        }

        // The outermost groups: heads inside attention blocks are not blocks.
        var outer = candidates.Where(c => !candidates.Any(o => o != c && o.Blocks.Any(b => c.Blocks.Any(x => x != b && ModuleTree.IsInside(x.Name, b.Name))))).ToList();
        if (outer.Count == 0)
        {
            if (experts.Count > 0)
            {
                var (container, router) = experts[0];
                findings.Problem($"no group of repeated residual blocks found: '{container.Name}' repeats {tree.Children(container).Count()} {tree.Children(container).First().TypeName} modules, " +
                                 $"but they are the experts of a mixture ('{router.Name}' routes among them), not blocks. Declare the residual blocks with {BlocksDeclaration(tree, container)}.");
            }

            return (string.Empty, []);
        }

        int most = outer.Max(c => c.Blocks.Count);
        var best = outer.Where(c => c.Blocks.Count == most).ToList();
        if (best.Count > 1)
        {
            findings.Problem($"several groups of {most} identical blocks ({string.Join(", ", best.Select(b => $"'{b.Description}'"))}): declare the residual blocks with .Blocks(\"{best[0].Description}\").");
            return (string.Empty, []);
        }

        if (outer.Count > 1)
        {
            findings.Warn(best[0].Description, $"taken as the residual blocks ({most}) over {string.Join(", ", outer.Where(o => o != best[0]).Select(o => $"'{o.Description}' ({o.Blocks.Count})"))}: declare .Blocks(...) if that is wrong.");
        }

        return (best[0].Description, best[0].Blocks);
    }

    /// <summary>
    /// The router of a mixture of experts when <paramref name="children"/> of <paramref name="container"/> are its experts:
    /// a Linear beside the container with one output per child, and no norm in any child (a residual block has its norms).
    /// </summary>
    private static TreeModule? Router(ModuleTree tree, TreeModule container, List<TreeModule> children)
    {
        if (container.Parent < 0 || children.Any(c => tree.Subtree(c).Any(m => ModuleKinds.IsNorm(m.Module))))
        {
            return null;
        }

        return tree.Children(tree.Modules[container.Parent]).FirstOrDefault(c => c != container && ModuleKinds.IsLinear(c.Module)
            && ModuleKinds.LinearShape(c.Module) is var (_, fanOut) && fanOut == children.Count);
    }

    /// <summary>The declaration that names the blocks holding <paramref name="inner"/>: a pattern over its outermost indexed ancestor (<c>.Blocks("block_*")</c>), else a placeholder.</summary>
    private static string BlocksDeclaration(ModuleTree tree, TreeModule inner)
    {
        string? pattern = null;
        for (var m = inner; m.Parent >= 0; m = tree.Modules[m.Parent])
        {
            if (Indexed().Match(m.LocalName) is { Success: true } match)
            {
                pattern = ModuleTree.Join(tree.Modules[m.Parent].Name, match.Groups[1].Value + "*");
            }
        }

        return pattern is null ? ".Blocks(\"<the container of the blocks>\")" : $".Blocks(\"{pattern}\")";
    }

    private static string Some(ModuleTree tree) =>
        Listing.FirstOf(tree.Modules.Skip(1).Select(m => m.Name).ToList(), 30);
}
