namespace CompleteP.Discovery;

/// <summary>
/// Step 2 of discovery: the width N, the size of the residual stream. Read from what defines it, never from the order in
/// which modules are registered: the norms that act on the residual stream (the blocks' own norms, direct children of a
/// block: a QK-norm or a norm inside a branch does not count) and the embeddings' output, checked against each other. A
/// factorized embedding (a table of size E, then a Linear E -> N outside the blocks) agrees with N. Where neither exists,
/// the fan-in most of the first block's Linears share. A declared width (<c>.Width(n)</c>) wins; where the evidence
/// disagrees and nothing is declared, the width is refused as ambiguous, naming both sources.
/// </summary>
internal static class WidthFinder
{
    /// <summary>The width and where it came from (for every message that follows from it), or a problem.</summary>
    public static (int Width, string Source) Find(ModuleTree tree, IReadOnlyList<TreeModule> blocks, ModelDeclarations declarations, Findings findings)
    {
        var first = blocks[0];
        var blockNorms = tree.Children(first).Where(c => ModuleKinds.IsNorm(c.Module) && tree.OwnParameters(c).Any())
            .Select(c => (c.LocalName, Size: (int)tree.OwnParameters(c).First().Tensor.shape[0])).ToList();
        bool InBlock(TreeModule m) => blocks.Any(b => ModuleTree.IsInside(m.Name, b.Name));
        var embeddings = tree.Modules.Where(m => m.Name.Length > 0 && !InBlock(m) && ModuleKinds.IsEmbedding(m.Module) && ModuleKinds.LinearWeight(m.Module) is { } w)
            .Select(m => (m.Name, Size: (int)ModuleKinds.LinearWeight(m.Module)!.shape[1])).ToList();
        var normSizes = blockNorms.Select(n => n.Size).Distinct().ToList();
        var embeddingSizes = embeddings.Select(e => e.Size).Distinct().ToList();
        string NormsText(int size) => $"the block norm{(blockNorms.Count(n => n.Size == size) == 1 ? "" : "s")} {string.Join(", ", blockNorms.Where(n => n.Size == size).Select(n => $"'{n.LocalName}'"))} of '{first.Name}'";
        string EmbeddingsText(int size) => $"the embedding{(embeddings.Count(e => e.Size == size) == 1 ? "" : "s")} {string.Join(", ", embeddings.Where(e => e.Size == size).Select(e => $"'{e.Name}'"))}";

        (int, string)? inferred = null;
        string? ambiguity = null;
        if (normSizes.Count == 1)
        {
            int n = normSizes[0];
            if (embeddingSizes.Count == 0 || embeddingSizes.Contains(n))
            {
                inferred = (n, embeddingSizes.Contains(n) ? $"{NormsText(n)} and {EmbeddingsText(n)}" : NormsText(n));
            }
            else if (embeddingSizes.All(e => ProjectsTo(tree, blocks, e, n)))
            {
                inferred = (n, $"{NormsText(n)}; the embeddings' {string.Join(", ", embeddingSizes)} are projected to it outside the blocks");
            }
            else
            {
                ambiguity = $"{NormsText(n)} act{(blockNorms.Count == 1 ? "s" : "")} on {n} features, but {string.Join("; ", embeddingSizes.Select(e => $"{EmbeddingsText(e)} write{(embeddings.Count(x => x.Size == e) == 1 ? "s" : "")} {e}"))}";
            }
        }
        else if (normSizes.Count > 1)
        {
            var agreed = normSizes.Where(embeddingSizes.Contains).ToList();
            if (agreed.Count == 1)
            {
                inferred = (agreed[0], $"{NormsText(agreed[0])} and {EmbeddingsText(agreed[0])}");
            }
            else
            {
                ambiguity = $"the norms of '{first.Name}' act on different sizes ({string.Join(", ", blockNorms.Select(b => $"'{b.LocalName}' {b.Size}"))}){(embeddings.Count > 0 ? $" and the embeddings write {string.Join(", ", embeddingSizes)}" : string.Empty)}";
            }
        }
        else if (embeddingSizes.Count == 1)
        {
            inferred = (embeddingSizes[0], $"{EmbeddingsText(embeddingSizes[0])} ('{first.Name}' has no norm of its own)");
        }
        else if (embeddingSizes.Count > 1)
        {
            ambiguity = $"'{first.Name}' has no norm of its own, and the embeddings write different sizes ({string.Join(", ", embeddings.Select(e => $"'{e.Name}' {e.Size}"))})";
        }
        else
        {
            var fanIns = tree.Subtree(first).Select(m => ModuleKinds.IsLinear(m.Module) ? ModuleKinds.LinearShape(m.Module) : null).OfType<(long In, long Out)>()
                .GroupBy(s => s.In).OrderByDescending(g => g.Count()).ToList();
            if (fanIns.Count > 0 && (fanIns.Count == 1 || fanIns[0].Count() > fanIns[1].Count()))
            {
                inferred = ((int)fanIns[0].Key, $"the fan-in of {fanIns[0].Count()} of the Linears of '{first.Name}' (the model has no embedding and the block no norm of its own)");
            }
            else
            {
                ambiguity = fanIns.Count == 0
                    ? $"'{first.Name}' has no norm of its own and no Linear, and the model has no embedding"
                    : $"'{first.Name}' has no norm of its own, the model no embedding, and its Linears' fan-ins are split ({string.Join(", ", fanIns.Select(g => $"{g.Key} x{g.Count()}"))})";
            }
        }

        if (declarations.DeclaredWidth is { } declared)
        {
            string note = inferred is var (w, s) ? (w == declared ? $"; inferred the same from {s}" : $"; inference would have read {w} from {s}") : ambiguity is null ? string.Empty : $"; inference could not tell: {ambiguity}";
            findings.Info("(width)", $"the width {declared} is declared with .Width({declared}){note}.");
            return (declared, $"declared with .Width({declared})");
        }

        if (inferred is var (width, source))
        {
            return (width, source);
        }

        findings.Problem($"the width (the size of the residual stream) is ambiguous: {ambiguity}. Declare it with .Width(n).");
        return (0, "ambiguous");
    }

    /// <summary>Whether a Linear outside the blocks maps <paramref name="from"/> features to <paramref name="to"/> (a factorized embedding).</summary>
    private static bool ProjectsTo(ModuleTree tree, IReadOnlyList<TreeModule> blocks, int from, int to) =>
        tree.Modules.Any(m => !blocks.Any(b => ModuleTree.IsInside(m.Name, b.Name)) && ModuleKinds.IsLinear(m.Module)
                              && ModuleKinds.LinearShape(m.Module) is var (i, o) && i == from && o == to);
}
