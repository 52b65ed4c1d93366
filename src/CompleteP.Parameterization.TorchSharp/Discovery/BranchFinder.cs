using System.Text.RegularExpressions;

namespace CompleteP.Discovery;

/// <summary>
/// Step 3 of discovery: the residual branches of every block, the Linears that write each branch's output, and the norms
/// that act on a branch's output.
/// <list type="bullet">
/// <item>Branches are declared (<c>.ResidualBranches("attn", "mlp")</c>, names relative to a block) or inferred: the
/// block's children that hold weights and are not norms. A branch that is itself a Linear must write the width.</item>
/// <item>Output projections are declared (<c>.OutputProjections("attn.o_proj", "moe.experts.*.w2")</c>, patterns
/// allowed; a declared name that lies in no branch is refused, never dropped), or the one Linear of the branch that maps
/// to the width N, or among several such (q and o of an attention are both N x N) those named like an output projection
/// (o_proj, wo, c_proj, down_proj, w2, ...): one, or one in every element of a container (an MoE's experts, whose
/// outputs are summed with routing weights, each carrying the multiplier).</item>
/// <item>Norms on a branch's output (OLMo-2's <c>x + norm(attn(x))</c>, Gemma's sandwich) are declared
/// (<c>.BranchOutputNorms(...)</c>) or read from the block's norms' names: when a block has a norm named for after its
/// feed-forward part (<c>post_feedforward_layernorm</c>), its norms named <c>post_*</c> act on branch outputs (in LLaMA
/// and Qwen3, <c>post_attention_layernorm</c> alone is the MLP's pre-norm).</item>
/// </list>
/// Registration order is never used: public code registers o_proj before q/k/v, w2 (down) between w1 and w3, and the
/// block norms before or after the branches.
/// </summary>
internal static partial class BranchFinder
{
    [GeneratedRegex(@"post.*(ffn|feed_?forward|mlp|moe|fc)|(ffn|feed_?forward|mlp|moe)_?post", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PostFeedForwardName();

    [GeneratedRegex(@"(^|_)post", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PostName();

    [GeneratedRegex(@"attn|attention|mixer", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AttentionName();

    /// <summary>Every block's branches, in block order.</summary>
    public static IReadOnlyList<ResidualBranch> Find(ModuleTree tree, IReadOnlyList<TreeModule> blocks, int width, string widthSource, ModelDeclarations declarations, Findings findings)
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

            var outputNorms = OutputNorms(tree, block, own, declarations, findings, b == 0);
            for (int i = 0; i < own.Count; i++)
            {
                var branch = own[i];
                var (projections, how) = OutputProjections(tree, block, branch, width, widthSource, declarations, findings, b == 0);
                branches.Add(new ResidualBranch(branch, b, projections, how, outputNorms?[i]));
            }

            if (b == 0)
            {
                RefuseStrayDeclarations(tree, block, own, declarations, findings);
            }
        }

        return branches;
    }

    /// <summary>
    /// The norm on each branch's output, paired with the branches in their order, or null when the block has none. Pairs
    /// a norm with the branch its name names (attention or feed-forward); where the names do not pair them, the pairing is
    /// by position, which changes nothing but the coordinate checks' labels (every branch carries the same multiplier).
    /// </summary>
    private static TreeModule?[]? OutputNorms(ModuleTree tree, TreeModule block, List<TreeModule> branches, ModelDeclarations declarations, Findings findings, bool report)
    {
        var norms = tree.Children(block).Where(c => ModuleKinds.IsNorm(c.Module) && tree.OwnParameters(c).Any()).ToList();
        List<TreeModule> post;
        string how;
        if (declarations.BranchOutputNormNames.Count > 0)
        {
            post = [];
            foreach (var local in declarations.BranchOutputNormNames)
            {
                var found = tree.Find(ModuleTree.Join(block.Name, local));
                if (found is null || !ModuleKinds.IsNorm(found.Module) || found.Parent != block.Index)
                {
                    if (report)
                    {
                        findings.Problem($".BranchOutputNorms(\"{local}\"): block '{block.Name}' has no norm '{local}' of its own (its norms: {(norms.Count == 0 ? "none" : string.Join(", ", norms.Select(n => n.LocalName)))}); " +
                                         "name the norms, children of the block, that act on a residual branch's output.");
                    }
                }
                else
                {
                    post.Add(found);
                }
            }

            how = "declared with .BranchOutputNorms(...)";
        }
        else
        {
            if (!norms.Any(n => PostFeedForwardName().IsMatch(n.LocalName)))
            {
                return null;
            }

            post = norms.Where(n => PostName().IsMatch(n.LocalName)).ToList();
            how = $"named for after the branches ({string.Join(", ", post.Select(p => p.LocalName))}, beside {string.Join(", ", norms.Except(post).Select(n => n.LocalName).DefaultIfEmpty("no other norm"))})";
        }

        if (post.Count == 0)
        {
            return null;
        }

        if (post.Count != branches.Count)
        {
            if (report)
            {
                findings.Problem($"block '{block.Name}' has {post.Count} norm(s) on branch outputs ({string.Join(", ", post.Select(p => p.LocalName))}, {how}) for {branches.Count} residual branch(es) ({string.Join(", ", branches.Select(b => b.LocalName))}): " +
                                 "the residual multiplier must act after a branch's last norm, so each branch needs one: declare them with .BranchOutputNorms(...) (one per branch, names relative to a block), " +
                                 "or declare the branches with .ResidualBranches(...).");
            }

            return null;
        }

        var paired = new TreeModule?[branches.Count];
        var left = post.ToList();
        for (int i = 0; i < branches.Count; i++)
        {
            bool attention = AttentionName().IsMatch(branches[i].LocalName);
            var match = left.Where(n => AttentionName().IsMatch(n.LocalName) == attention).ToList();
            if (match.Count == 1)
            {
                paired[i] = match[0];
                left.Remove(match[0]);
            }
        }

        for (int i = 0; i < branches.Count; i++)
        {
            if (paired[i] is null)
            {
                paired[i] = left[0];
                left.RemoveAt(0);
            }
        }

        if (report)
        {
            findings.Info(block.Name, $"norms on the branch outputs ({how}): {string.Join(", ", branches.Select((b, i) => $"{b.LocalName} -> {paired[i]!.LocalName}"))}; the residual multiplier is folded into their gains and shifts, after the norm, where a multiplier before it would be undone.");
        }

        return paired;
    }

    private static (IReadOnlyList<TreeModule> Projections, string How) OutputProjections(ModuleTree tree, TreeModule block, TreeModule branch, int width, string widthSource,
        ModelDeclarations declarations, Findings findings, bool report)
    {
        string Local(TreeModule m) => m.Name[(block.Name.Length + 1)..];
        var declared = new List<TreeModule>();
        foreach (var local in declarations.OutputProjectionNames)
        {
            var matches = Declared(tree, block, local);
            if (matches.Count == 0 && report)
            {
                findings.Problem($"block '{block.Name}' has no module {(Glob.HasWildcard(local) ? "matching" : "named")} '{local}' (declared output projection).");
            }

            declared.AddRange(matches.Where(m => ModuleTree.IsInside(m.Name, branch.Name)));
        }

        if (declared.Count > 0)
        {
            var notLinear = declared.Where(d => ModuleKinds.LinearShape(d.Module) is null).ToList();
            if (notLinear.Count > 0)
            {
                return Fail(findings, $"the declared output projection '{notLinear[0].Name}' ({notLinear[0].TypeName}) has no 2-D weight parameter" +
                                      (ModuleKinds.IsNorm(notLinear[0].Module) ? ": it is a norm; a norm on the branch's output is declared with .BranchOutputNorms(...)." : "."), report);
            }

            var offWidth = declared.Where(d => ModuleKinds.LinearShape(d.Module)!.Value.Out != width).ToList();
            if (offWidth.Count > 0)
            {
                return Fail(findings, $"the declared output projection '{offWidth[0].Name}' maps {ModuleKinds.LinearShape(offWidth[0].Module)!.Value.In} -> {ModuleKinds.LinearShape(offWidth[0].Module)!.Value.Out}, not to the width {width} (from {widthSource}): " +
                                      "an output projection writes the residual stream. Declare the Linear(s) that do.", report);
            }

            // An expert's projection declared alone (experts.3.w2) while its siblings (experts.*.w2) write the same output:
            // folding into one expert of four would be silently wrong.
            var siblings = declared.Select(d => Pattern(Local(d))).Where(p => p.Contains('*', StringComparison.Ordinal)).Distinct()
                .Select(p => (Pattern: p, All: tree.Subtree(branch).Where(m => m.Name.Length > block.Name.Length && Glob.Matches(p, Local(m))).ToList()))
                .FirstOrDefault(x => x.All.Any(m => !declared.Contains(m)));
            if (siblings.Pattern is not null)
            {
                return Fail(findings, $"the declared output projections of branch '{branch.Name}' ({string.Join(", ", declared.Select(Local))}) leave out {string.Join(", ", siblings.All.Where(m => !declared.Contains(m)).Select(Local))}, " +
                                      $"which write the same output (the elements of one container, as an MoE's experts, summed into the branch's output): every one must carry the residual multiplier. " +
                                      $"Declare them all with a pattern, .OutputProjections(\"{siblings.Pattern}\", ...).", report);
            }

            return (declared, "declared");
        }

        if (ModuleKinds.IsLinear(branch.Module) && ModuleKinds.LinearShape(branch.Module) is var (fanIn, fanOut))
        {
            return fanOut == width
                ? ([branch], "the branch is a Linear")
                : Fail(findings, $"'{branch.Name}' is taken as a residual branch, but it is a Linear {fanIn} -> {fanOut} that does not write the width {width} (from {widthSource}), so its output cannot be added to the residual stream: " +
                                 "it is part of a branch (an MoE router belongs to the branch whose experts it weighs); declare the modules whose outputs are added to the residual stream with .ResidualBranches(...).", report);
        }

        // A router (width -> experts) weighs the experts' outputs but writes nothing to the residual stream, even where it
        // has as many experts as the width has features.
        var linears = tree.Subtree(branch).Where(m => ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is not null && ExpertsRouted(tree, m, width) is null).ToList();
        var toWidth = linears.Where(m => ModuleKinds.LinearShape(m.Module)!.Value.Out == width).ToList();
        if (toWidth.Count == 1)
        {
            return ([toWidth[0]], $"the only Linear of the branch that maps to the width {width}");
        }

        var named = toWidth.Where(m => ModuleKinds.IsOutputProjectionName(m.LocalName)).ToList();
        if (named.Count == 1)
        {
            return ([named[0]], $"maps to the width {width} and is named like an output projection (of {string.Join(", ", toWidth.Select(t => t.LocalName))})");
        }

        // Several, each in an element of a container (an MoE's experts, plus perhaps a shared expert): all of them write the output.
        var candidates = named.Count > 1 ? named : toWidth;
        var patterns = candidates.Select(c => Pattern(Local(c))).ToList();
        bool experts = candidates.Count > 1 && patterns.Any(p => p.Contains('*', StringComparison.Ordinal))
                       && patterns.GroupBy(p => p).All(g => g.Key.Contains('*', StringComparison.Ordinal) ? g.Count() > 1 : g.Count() == 1)
                       && (named.Count > 1 || patterns.Distinct().Count() == 1);
        if (experts)
        {
            return (candidates, $"the {candidates.Count} Linears that map to the width {width} in the elements of a container ({string.Join(", ", patterns.Distinct())}): their outputs are summed into the branch's output");
        }

        string choices = string.Join(", ", toWidth.Select(t => Pattern(Local(t))).Distinct().Select(p => $"\"{p}\""));
        if (toWidth.Count == 0)
        {
            return ([], $"no Linear of branch '{branch.Name}' maps to the width {width} (from {widthSource}; its Linears: {(linears.Count == 0 ? "none" : string.Join(", ", linears.Select(l => $"{l.LocalName} [{ModuleKinds.LinearShape(l.Module)!.Value.In}->{ModuleKinds.LinearShape(l.Module)!.Value.Out}]")))}): " +
                                  $"declare the Linear(s) that write its output with .OutputProjections(\"{Local(branch)}.name\") (names relative to a block), or the width with .Width(n) if {width} is not the width.");
        }

        return ([], $"cannot tell which Linears of branch '{branch.Name}' write its output: {string.Join(", ", toWidth.Select(t => t.LocalName))} all map to the width {width} (from {widthSource}): " +
                              $"declare every Linear whose output is added to the residual stream with .OutputProjections(...), choosing among {choices} (names relative to a block; a pattern with * covers every expert of a mixture).");
    }

    /// <summary>
    /// The experts a Linear routes between, or null when it is no router: a Linear from the width to E outputs beside (a child
    /// of the same parent) a container of exactly E modules of one type, each holding a Linear that writes the width.
    /// </summary>
    /// <param name="tree">The module tree.</param>
    /// <param name="linear">The Linear.</param>
    /// <param name="width">The width N.</param>
    /// <returns>The experts' container, or null.</returns>
    internal static TreeModule? ExpertsRouted(ModuleTree tree, TreeModule linear, int width)
    {
        if (linear.Parent < 0 || ModuleKinds.LinearShape(linear.Module) is not var (fanIn, fanOut) || fanIn != width)
        {
            return null;
        }

        return tree.Children(tree.Modules[linear.Parent]).FirstOrDefault(c => c != linear && ModuleKinds.IsContainer(c.Module)
            && tree.Children(c).ToList() is { Count: > 1 } experts && experts.Count == fanOut
            && experts.All(e => e.Module.GetType() == experts[0].Module.GetType()
                                && tree.Subtree(e).Any(m => ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is var (_, o) && o == width)));
    }

    /// <summary>Refuses a declared output projection or output norm that lies in no residual branch of the block: never dropped.</summary>
    private static void RefuseStrayDeclarations(ModuleTree tree, TreeModule block, List<TreeModule> branches, ModelDeclarations declarations, Findings findings)
    {
        foreach (var local in declarations.OutputProjectionNames)
        {
            var matches = Declared(tree, block, local);
            var outside = matches.Where(m => !branches.Any(b => ModuleTree.IsInside(m.Name, b.Name))).ToList();
            if (outside.Count > 0)
            {
                var m = outside[0];
                findings.Problem($".OutputProjections(\"{local}\") names '{m.Name}' ({m.TypeName}), which is in no residual branch of '{block.Name}' ({string.Join(", ", branches.Select(b => b.LocalName))}): " +
                                 (ModuleKinds.IsNorm(m.Module)
                                     ? "a norm that acts on a branch's output is declared with .BranchOutputNorms(...), and the residual multiplier is then folded into its gain and shift."
                                     : "an output projection lies inside the branch whose output it writes; declare the branches with .ResidualBranches(...) if one is missing."));
            }
        }
    }

    /// <summary>The modules of a block that a declared name or pattern (relative to the block) names.</summary>
    private static List<TreeModule> Declared(ModuleTree tree, TreeModule block, string local) => Glob.HasWildcard(local)
        ? tree.Subtree(block).Where(m => m.Name.Length > block.Name.Length && Glob.Matches(local, m.Name[(block.Name.Length + 1)..])).ToList()
        : tree.Find(ModuleTree.Join(block.Name, local)) is { } one ? [one] : [];

    /// <summary>A module path with its numeric segments as <c>*</c>: <c>moe.experts.3.w2</c> gives <c>moe.experts.*.w2</c>.</summary>
    private static string Pattern(string local) => string.Join('.', local.Split('.').Select(s => s.Length > 0 && s.All(char.IsAsciiDigit) ? "*" : s));

    private static (IReadOnlyList<TreeModule>, string) Fail(Findings findings, string problem, bool report)
    {
        if (report)
        {
            findings.Problem(problem);
        }

        return ([], problem);
    }
}
