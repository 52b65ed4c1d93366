namespace CompleteP.Discovery;

/// <summary>
/// Step 4 of discovery: the modules outside the blocks. Embeddings are inputs and norms are final norms. A
/// Linear is told by its shape, never by where it is registered (public code registers lm_head before the
/// decoder): one that maps the width N to something else (N -> vocab) is a readout, one that maps something
/// else to N is an input layer; an N x N Linear is told by its name (lm_head, head, output, ... or embed,
/// input, patch, ...), else by its position with a warning. A declared readout must be a Linear: the readout
/// multiplier scales logits, not embeddings. Several readouts (an auxiliary head) need declaring.
/// </summary>
internal static class OutsideBlocks
{
    /// <summary>The roles of the modules outside the blocks that hold parameters, the inputs and the readout.</summary>
    public static (IReadOnlyDictionary<string, TensorRole> Roles, IReadOnlyList<TreeModule> Inputs, TreeModule? Readout) Find(
        ModuleTree tree, IReadOnlyList<TreeModule> blocks, int width, string widthSource, ModelDeclarations declarations, Findings findings)
    {
        bool InBlock(TreeModule m) => blocks.Any(b => ModuleTree.IsInside(m.Name, b.Name));
        int firstBlock = blocks.Count > 0 ? blocks[0].Index : int.MaxValue;
        var roles = new Dictionary<string, TensorRole>(StringComparer.Ordinal);
        var inputs = new List<TreeModule>();
        var readouts = new List<TreeModule>();
        TreeModule? declaredReadout = null;
        if (declarations.ReadoutName is { } readoutName)
        {
            declaredReadout = tree.Find(readoutName);
            if (declaredReadout is null || readoutName.Length == 0)
            {
                findings.Problem($".Readout(\"{readoutName}\") names no module.");
                declaredReadout = null;
            }
            else if (ModuleKinds.IsEmbedding(declaredReadout.Module) || ModuleKinds.LinearShape(declaredReadout.Module) is null)
            {
                findings.Problem($".Readout(\"{readoutName}\") names '{readoutName}' ({declaredReadout.TypeName}), which is not a Linear: the readout is the module that maps the width to the logits " +
                                 "(the unembedding multiplier scales its output). For a head tied to the embedding, name the Linear that holds the tied weight; if the forward computes the logits from the table after the final norm (x @ wte.weight.T), declare .LogitsFromEmbeddingTable() instead, which needs no edit of the model.");
                declaredReadout = null;
            }
        }

        // The root is never an input layer, norm or readout itself: its own parameters are classified one by one.
        foreach (var m in tree.Modules.Where(m => m.Name.Length > 0 && !InBlock(m) && tree.OwnParameters(m).Any()))
        {
            if (m != declaredReadout && tree.OwnParameters(m).All(p => declarations.Roles.Any(r => r.Matches(p.Name))))
            {
                continue; // every tensor of it has a declared role
            }

            if (m == declaredReadout)
            {
                readouts.Add(m);
            }
            else if (ModuleKinds.IsNorm(m.Module))
            {
                roles[m.Name] = TensorRole.FinalNorm;
                if (m.Index < firstBlock)
                {
                    findings.Info(m.Name, "a norm before the blocks: it follows the final-norm rule (no width or depth scaling, learning rate eta, no weight decay).");
                }
            }
            else if (ModuleKinds.IsEmbedding(m.Module))
            {
                inputs.Add(m);
            }
            else if (ModuleKinds.IsLinear(m.Module) && ModuleKinds.LinearShape(m.Module) is var (fanIn, fanOut))
            {
                bool fromWidth = fanIn == width, toWidth = fanOut == width;
                if (!fromWidth && !toWidth)
                {
                    findings.Problem(m.Name, $"'{m.Name}' ({m.TypeName}, {fanIn} -> {fanOut}) is outside the blocks and maps neither from nor to the width {width} (from {widthSource}): if {width} is not the width, declare it with .Width(n); else declare its role, e.g. .Role(\"{m.Name}.*\", TensorRole.Embedding) for an input layer or .Readout(\"{m.Name}\") for the readout.");
                    continue;
                }

                bool readout = fromWidth && (!toWidth || ModuleKinds.IsReadoutName(m.LocalName) || (!ModuleKinds.IsInputName(m.LocalName) && m.Index > firstBlock));
                if (fromWidth && toWidth && !ModuleKinds.IsReadoutName(m.LocalName) && !ModuleKinds.IsInputName(m.LocalName))
                {
                    findings.Warn(m.Name, $"a {width} x {width} Linear outside the blocks, taken as {(readout ? "a readout" : "an input layer")} because it is registered {(readout ? "after" : "before")} them: declare .Readout(\"{m.Name}\") or .Role(\"{m.Name}.*\", TensorRole.Embedding) if that is wrong.");
                }

                if (!readout)
                {
                    inputs.Add(m);
                }
                else if (declaredReadout is null)
                {
                    readouts.Add(m);
                }
                else
                {
                    findings.Problem(m.Name, $"'{m.Name}' maps the width {width} outward like a readout, but the readout is declared as '{declaredReadout.Name}': declare the role of '{m.Name}', e.g. .Role(\"{m.Name}.*\", TensorRole.Unembedding) for an auxiliary head.");
                }
            }
            else if (tree.OwnParameters(m).Any(p => p.Tensor.dim() >= 2 && p.Tensor.shape[0] == width) && m.Index < firstBlock)
            {
                inputs.Add(m);
                findings.Info(m.Name, $"{m.TypeName} before the blocks with {width} output channels: treated as an input layer (embedding rule).");
            }
        }

        if (readouts.Count > 1)
        {
            var named = readouts.Where(r => ModuleKinds.IsReadoutName(r.LocalName)).ToList();
            if (named.Count == 1)
            {
                foreach (var other in readouts.Where(r => r != named[0]))
                {
                    findings.Problem(other.Name, $"'{other.Name}' ({other.TypeName}) also maps the width {width} outward, besides the readout '{named[0].Name}': declare its role (an auxiliary head: .Role(\"{other.Name}.*\", TensorRole.Unembedding)) or declare the readout with .Readout(\"{other.Name}\").");
                }

                readouts = named;
            }
            else
            {
                readouts.ForEach(r => findings.MarkReported(r.Name));
                findings.Problem($"{readouts.Count} Linears map the width {width} outward ({string.Join(", ", readouts.Select(r => r.Name))}): declare the readout with .Readout(\"{readouts[0].Name}\") and the role of the others.");
                readouts = [];
            }
        }

        foreach (var input in inputs)
        {
            roles[input.Name] = TensorRole.Embedding;
        }

        var readoutModule = readouts.Count == 1 ? readouts[0] : null;
        if (readoutModule is not null)
        {
            roles[readoutModule.Name] = TensorRole.Unembedding;
            if (readoutModule.Index < firstBlock && declaredReadout is null)
            {
                findings.Info(readoutModule.Name, "the readout, though registered before the blocks: it maps the width outward.");
            }
        }

        return (roles, inputs, readoutModule);
    }
}
