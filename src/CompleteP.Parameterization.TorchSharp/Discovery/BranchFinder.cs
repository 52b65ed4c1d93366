namespace CompleteP.Discovery;

/// <summary>
/// Step 3 of discovery: the residual branches of every block and the Linear that writes each branch's output.
/// Branches are declared (<c>.ResidualBranches("attn", "mlp")</c>, names relative to a block, nested names allowed)
/// or inferred: the block's children that hold weights and are not norms. The output projection is declared
/// (<c>.OutputProjections("attn.o_proj", "mlp.down_proj")</c>), or the branch itself when it is a Linear, or the one
/// Linear of the branch that maps to the width N, or among several such (q and o of an attention are both N x N)
/// the one named like an output projection (o_proj, wo, c_proj, dense, out_proj, down_proj, w2, fc2, ...).
/// Registration order is never used: public code registers o_proj before q/k/v, and w2 (down) between w1 and w3.
/// </summary>
internal static class BranchFinder
{
    /// <summary>Every block's branches, in block order.</summary>
    public static IReadOnlyList<ResidualBranch> Find(ModuleTree tree, IReadOnlyList<TreeModule> blocks, int width, ModelDeclarations declarations, Findings findings)
    {
        var branches = new List<ResidualBranch>();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var children = tree.Children(block).ToList();
            var holding = children.Where(c => ModuleKinds.HoldsWeight(c.Module) && !ModuleKinds.IsNorm(c.Module)).ToList();
            List<TreeModule> own;
            if (declarations.ResidualBranchNames.Count > 0)
            {
                own = [];
                foreach (var local in declarations.ResidualBranchNames)
                {
                    var found = tree.Find(ModuleTree.Join(block.Name, local));
                    if (found is null)
                    {
                        if (reported.Add(local))
                        {
                            findings.Problem($"block '{block.Name}' has no module '{local}' (declared residual branch); its children are: {string.Join(", ", children.Select(c => c.LocalName))}.");
                        }
                    }
                    else
                    {
                        own.Add(found);
                    }
                }

                var uncovered = holding.Where(c => !own.Any(o => ModuleTree.IsInside(c.Name, o.Name) || ModuleTree.IsInside(o.Name, c.Name))).ToList();
                if (uncovered.Count > 0 && b == 0)
                {
                    var all = declarations.ResidualBranchNames.Concat(uncovered.Select(u => u.LocalName)).Distinct();
                    findings.Problem($"'{string.Join("', '", uncovered.Select(u => u.Name))}' hold{(uncovered.Count == 1 ? "s" : "")} weights but {(uncovered.Count == 1 ? "is" : "are")} not among the declared residual branches ({string.Join(", ", declarations.ResidualBranchNames)}): " +
                                     $"every module whose output is added to the residual stream is a branch, so declare them all, e.g. .ResidualBranches({string.Join(", ", all.Select(a => $"\"{a}\""))}).");
                }
            }
            else
            {
                own = holding;
                if (own.Count == 0)
                {
                    findings.Problem($"block '{block.Name}' has no child module holding a weight, so its residual branches cannot be found: declare them with .ResidualBranches(\"attn\", \"mlp\") (names relative to a block; its children are: {string.Join(", ", children.Select(c => c.LocalName))}).");
                }
            }

            foreach (var branch in own)
            {
                var (projection, how) = OutputProjection(tree, block, branch, width, declarations, findings);
                branches.Add(new ResidualBranch(branch, b, projection, how));
            }
        }

        return branches;
    }

    private static (TreeModule? Projection, string How) OutputProjection(ModuleTree tree, TreeModule block, TreeModule branch, int width,
        ModelDeclarations declarations, Findings findings)
    {
        var declared = new List<TreeModule>();
        foreach (var local in declarations.OutputProjectionNames)
        {
            var found = tree.Find(ModuleTree.Join(block.Name, local));
            if (found is null)
            {
                findings.Problem($"block '{block.Name}' has no module '{local}' (declared output projection).");
            }
            else if (ModuleTree.IsInside(found.Name, branch.Name))
            {
                declared.Add(found);
            }
        }

        if (declared.Count == 1)
        {
            return ModuleKinds.LinearShape(declared[0].Module) is null
                ? Fail(findings, $"the declared output projection '{declared[0].Name}' ({declared[0].TypeName}) has no 2-D weight parameter.")
                : (declared[0], "declared");
        }

        if (declared.Count > 1)
        {
            return Fail(findings, $"branch '{branch.Name}' has {declared.Count} declared output projections ({string.Join(", ", declared.Select(d => d.LocalName))}): declare one per branch.");
        }

        if (ModuleKinds.IsLinear(branch.Module) && ModuleKinds.LinearShape(branch.Module) is not null)
        {
            return (branch, "the branch is a Linear");
        }

        var linears = tree.Subtree(branch).Where(m => ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is not null).ToList();
        var toWidth = linears.Where(m => ModuleKinds.LinearShape(m.Module)!.Value.Out == width).ToList();
        if (toWidth.Count == 1)
        {
            return (toWidth[0], $"the only Linear of the branch that maps to the width {width}");
        }

        var named = toWidth.Where(m => ModuleKinds.IsOutputProjectionName(m.LocalName)).ToList();
        if (named.Count == 1)
        {
            return (named[0], $"maps to the width {width} and is named like an output projection (of {string.Join(", ", toWidth.Select(t => t.LocalName))})");
        }

        string declaration = $".OutputProjections(\"{(toWidth.Count > 0 ? toWidth[^1] : branch).Name[(block.Name.Length + 1)..]}\", ...)";
        return toWidth.Count == 0
            ? (null, $"no Linear of branch '{branch.Name}' maps to the width {width} (its Linears: {(linears.Count == 0 ? "none" : string.Join(", ", linears.Select(l => $"{l.LocalName} [{ModuleKinds.LinearShape(l.Module)!.Value.In}->{ModuleKinds.LinearShape(l.Module)!.Value.Out}]")))}): declare the Linear that writes its output with {declaration}")
            : (null, $"cannot tell which Linear of branch '{branch.Name}' writes its output: {string.Join(", ", toWidth.Select(t => t.LocalName))} all map to the width {width}: declare it with {declaration} (names relative to a block)");
    }

    private static (TreeModule?, string) Fail(Findings findings, string problem)
    {
        findings.Problem(problem);
        return (null, problem);
    }
}
