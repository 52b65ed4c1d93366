using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Finds the roles of a model's parameters and its residual branches, in named steps over its <see cref="ModuleTree"/>:
/// refuse native transformer modules and weights kept as buffers, find the blocks, infer the width, find each block's
/// residual branches and their output projections, classify the modules outside the blocks, classify every parameter.
/// Declarations win over every inference; every problem is collected and thrown together.
/// </summary>
internal static class StructureDiscovery
{
    /// <summary>Discovers the structure of a model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="declarations">What the user declared.</param>
    /// <param name="allowWidthOnly">Whether a model without residual blocks is accepted (SP and muP); else it is refused.</param>
    /// <returns>The structure.</returns>
    /// <exception cref="ParameterClassificationException">Something could not be classified; the message lists each problem with its fix.</exception>
    public static ModelStructure Discover(nn.Module model, ModelDeclarations declarations, bool allowWidthOnly = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(declarations);
        var tree = ModuleTree.Of(model);
        var findings = new Findings();
        RefuseNative(tree, findings);
        BufferCheck.Run(tree, findings); // first: a Linear whose weight is a buffer also hides its block
        OffsetGainProbe.Run(tree, findings);
        findings.ThrowIfProblems();

        var (blocksDescription, blocks) = BlockFinder.Find(tree, declarations, findings);
        SharedModules(tree, blocks, findings);
        findings.ThrowIfProblems();
        Dictionary<string, TensorRole> roles;
        IReadOnlyList<TreeModule> inputs;
        TreeModule? readout;
        IReadOnlyList<ResidualBranch> branches = [];
        int width;
        string widthSource = string.Empty;
        if (blocks.Count == 0)
        {
            if (!allowWidthOnly)
            {
                findings.Problem("no residual blocks were found (a ModuleList, Sequential or ModuleDict of identical modules holding weights, or siblings block_0, block_1, ...): " +
                                 "declare them with .Blocks(\"name\") (their container) or .Blocks(\"block_*\") (a pattern). A model without residual blocks (an MLP) has no depth for CompleteP's " +
                                 "depth rules to act on: use Parameterization.MuP or Standard for it.");
                findings.ThrowIfProblems();
            }

            RefuseLoneBlocks(tree, findings);
            findings.ThrowIfProblems();
            (roles, inputs, readout, width) = WidthOnly.Find(tree, declarations, findings);
            widthSource = "the readout's fan-in";
            findings.ThrowIfProblems();
        }
        else
        {
            (width, widthSource) = WidthFinder.Find(tree, blocks, declarations, findings);
            findings.ThrowIfProblems();
            branches = BranchFinder.Find(tree, blocks, width, widthSource, declarations, findings);
            if (findings.Problems.Count == 0)
            {
                BranchOutputProbe.Run(tree, blocks[0], branches.Where(b => b.BlockIndex == 0).ToList(), width, findings);
            }

            IReadOnlyDictionary<string, TensorRole> outsideRoles;
            (outsideRoles, inputs, readout) = OutsideBlocks.Find(tree, blocks, width, widthSource, declarations, findings);
            roles = ParameterClassifier.BlockModuleRoles(tree, blocks, width, findings);
            foreach (var (name, role) in outsideRoles)
            {
                roles[name] = role;
            }

            findings.Info(blocksDescription, $"{blocks.Count} residual block(s), {branches.Count / blocks.Count} residual branch(es) each ({string.Join(", ", branches.Where(b => b.BlockIndex == 0).Select(b => b.Name[(blocks[0].Name.Length + 1)..] + (b.Writers.Count > 0 ? $" -> {string.Join(" + ", b.Writers.Select(w => w.LocalName))}" : string.Empty)))}), width {width} (from {widthSource}).");
            if (declarations.DeclaredDepth is { } depth && depth != blocks.Count)
            {
                findings.Info("(depth)", $"the depth {depth} is declared with .Depth({depth}): m_L counts {depth}, though {blocks.Count} block(s) were found in '{blocksDescription}'.");
            }
        }

        var parameters = ParameterClassifier.Classify(tree, blocks, branches, roles, inputs, readout, width, declarations, findings);
        findings.ThrowIfProblems();
        var attention = tree.Modules.Where(m => m.Module is IScaledAttention).Select(m => (m.Name, (IScaledAttention)m.Module)).ToList();
        return new ModelStructure(tree, blocksDescription, blocks, branches, inputs, readout, attention, parameters, width, findings.Diagnostics)
        {
            WidthSource = widthSource,
            DeclaredDepth = blocks.Count > 0 ? declarations.DeclaredDepth : null,
        };
    }

    /// <summary>
    /// A module registered in two places (TorchSharp lists its parameters once, under the first name). A block used at two
    /// depths (weights shared across depth, as ALBERT does) is refused: the depth rules count blocks, and the second use would
    /// be invisible. A shared module inside or outside the blocks is a warning: its tensors follow the rule of its first place.
    /// </summary>
    private static void SharedModules(ModuleTree tree, IReadOnlyList<TreeModule> blocks, Findings findings)
    {
        foreach (var (name, first) in tree.Aliases)
        {
            if (blocks.Any(b => b.Name == first))
            {
                findings.Problem($"'{name}' is the block '{first}' registered a second time: a block used at two depths shares its weights across depth, which the depth rules do not cover " +
                                 "(they count blocks, and the second use has no parameters of its own, so the depth would be read too small): build each block as its own module.");
            }
            else
            {
                findings.Warn(name, $"the module '{first}' is registered here a second time: TorchSharp lists its parameters once, under '{first}', so they follow the rule of that place.");
            }
        }
    }

    /// <summary>
    /// A model without repeated blocks is read as a width-only network (an MLP: its first Linear the input, its last the
    /// readout, norms hidden norms). A module that holds a norm and a Linear like a pre-LN residual block (one block
    /// alone, or blocks of different types) would be read that way in silence, with the wrong depth and roles: refused.
    /// </summary>
    private static void RefuseLoneBlocks(ModuleTree tree, Findings findings)
    {
        foreach (var m in tree.Modules.Where(m => m.Name.Length > 0 && !ModuleKinds.IsContainer(m.Module) && !ModuleKinds.IsLinear(m.Module) && !ModuleKinds.IsNorm(m.Module)))
        {
            var below = tree.Subtree(m).Skip(1).ToList();
            if (below.Any(b => ModuleKinds.IsNorm(b.Module) && tree.OwnParameters(b).Any()) && below.Any(b => ModuleKinds.IsLinear(b.Module) && ModuleKinds.LinearShape(b.Module) is not null)
                && !tree.Modules.Any(o => o != m && o.Name.Length > 0 && ModuleTree.IsInside(m.Name, o.Name) && !ModuleKinds.IsContainer(o.Module)))
            {
                findings.Problem($"'{m.Name}' ({m.TypeName}) holds a norm and Linears like a residual block, but no group of repeated blocks was found (a single block, or blocks of different types), " +
                                 $"so the model would be read as a width-only network with the wrong depth and roles: declare the blocks with a pattern that matches them, .Blocks(\"{BlockPattern(m.Name)}\").");
            }
        }
    }

    /// <summary>A pattern for .Blocks that matches a block and its numbered siblings: <c>block_0</c> gives <c>block_*</c>.</summary>
    private static string BlockPattern(string name)
    {
        string trimmed = name.TrimEnd("0123456789".ToCharArray());
        return trimmed.Length < name.Length ? trimmed + "*" : name + "*";
    }

    /// <summary>TorchSharp's native transformer modules run their layers in libtorch: nothing in them can be reached, scaled or folded.</summary>
    private static void RefuseNative(ModuleTree tree, Findings findings)
    {
        foreach (var native in tree.Modules.Where(m => ModuleKinds.IsNative(m.Module)))
        {
            findings.Problem($"'{native.Display}' is TorchSharp's native {native.TypeName}: its layers run inside libtorch (post-norm, a fixed 1/sqrt(d_head) attention scale, " +
                             "parameters listed flat with no Linear or norm modules to classify), so neither the residual multipliers nor the attention scale can be applied to it. " +
                             "Build the encoder from TorchSharp modules (pre-LN blocks of Linear and LayerNorm in a ModuleList), as docs/bring-your-own-model.md shows.");
        }
    }
}
