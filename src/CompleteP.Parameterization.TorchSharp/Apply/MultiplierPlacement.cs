using CompleteP.Discovery;
using CompleteP.Rules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Decides where each forward multiplier acts. Folded (the default): the residual multiplier into each branch's
/// output projection, <c>alpha_in</c> into every input table, the unembedding multiplier into an untied readout;
/// a readout tied to the embedding keeps a hook (its table is also the embedding, which must not carry the logit
/// multiplier, and carries <c>alpha_in</c>: the hook applies <c>alpha_out / m_N / alpha_in</c>, even where the unembedding
/// multiplier alone is 1). Where the forward computes the logits itself (<c>.OutputMultiplierAppliedInForward()</c>,
/// perhaps from the token table) <c>alpha_in</c> is a hook on the input modules, so that the table stays free of it; with
/// no readout at all and no such declaration, folding <c>alpha_in</c> is refused. Hooks: on each branch, input and readout
/// module. A multiplier of exactly 1 is placed nowhere.
/// </summary>
internal static class MultiplierPlacement
{
    /// <summary>The multiplier folded into each tensor (by name) and the hooks, or problems.</summary>
    public static (IReadOnlyDictionary<string, FoldedMultiplier> Folded, IReadOnlyList<MultiplierHook> Hooks) Decide(
        ModelStructure structure, ForwardMultipliers multipliers, MultiplierMode mode, ModelDeclarations declarations, Findings findings)
    {
        var folded = new Dictionary<string, FoldedMultiplier>(StringComparer.Ordinal);
        var hooks = new List<MultiplierHook>();
        void Fold(IEnumerable<DiscoveredParameter> rows, MultiplierKind kind)
        {
            foreach (var p in rows)
            {
                folded[p.Name] = new FoldedMultiplier(kind, multipliers[kind]);
            }
        }

        void Hook(TreeModule module, MultiplierKind kind, ScaledValue value, string reason)
        {
            if (module.Module is nn.Module<Tensor, Tensor>)
            {
                hooks.Add(new MultiplierHook(module.Name, kind, value, reason));
            }
            else
            {
                findings.Problem($"the {kind.ToString().ToLowerInvariant()} multiplier ({value}) must be applied to the output of '{module.Display}' by a hook ({reason}), " +
                                 $"but it is a {module.TypeName}, not a Module<Tensor, Tensor>, whose output a hook can scale{(mode == MultiplierMode.Hooks ? ": use the default MultiplierMode.Fold" : string.Empty)}.");
            }
        }

        // The residual multiplier m_L^-alpha, on every residual branch.
        if (multipliers.Residual.Value != 1.0)
        {
            foreach (var branch in structure.Branches)
            {
                if (mode == MultiplierMode.Hooks)
                {
                    Hook(branch.Module, MultiplierKind.Residual, multipliers.Residual, "MultiplierMode.Hooks");
                }
                else if (branch.OutputProjection is null)
                {
                    if (branch.BlockIndex == 0)
                    {
                        findings.Problem($"the residual multiplier ({multipliers.Residual}) is folded into the Linear that writes each branch's output, and {branch.HowFound}.");
                    }
                }
                else
                {
                    var written = structure.Parameters.Where(p => p.WritesBranch == branch.Name).ToList();
                    var tied = written.Where(p => p.SharedWith.Count > 0).ToList();
                    if (tied.Count > 0)
                    {
                        findings.Problem($"'{tied[0].Name}', which writes the output of branch '{branch.Name}', is tied to {string.Join(", ", tied[0].SharedWith)}: the residual multiplier cannot be folded into a shared tensor; use MultiplierMode.Hooks.");
                    }

                    Fold(written, MultiplierKind.Residual);
                }
            }
        }

        // alpha_in, on every input table and input layer. When the forward computes the logits itself (possibly from the
        // token table, x @ wte.weight.T), folding alpha_in into the tables would scale those logits too: it is a hook then.
        bool hookInputs = mode == MultiplierMode.Hooks || declarations.OutputMultiplierInForward;
        if (multipliers.Embedding.Value != 1.0)
        {
            if (hookInputs)
            {
                string reason = mode == MultiplierMode.Hooks
                    ? "MultiplierMode.Hooks"
                    : "the forward computes the logits (.OutputMultiplierAppliedInForward()), perhaps from this table, which must then not carry alpha_in";
                foreach (var input in structure.Inputs)
                {
                    Hook(input, MultiplierKind.Embedding, multipliers.Embedding, reason);
                }

                foreach (var raw in structure.Parameters.Where(p => p.IsInput && !HeldByInput(structure, p)))
                {
                    findings.Problem(mode == MultiplierMode.Hooks
                        ? $"'{raw.Name}' is an input table held by no input module, so no hook can scale it by alpha_in: use the default MultiplierMode.Fold."
                        : $"'{raw.Name}' is an input table held by no input module, so no hook can scale it by alpha_in ({multipliers.Embedding}), and folding alpha_in into it would also scale logits " +
                          "that the forward computes from it (.OutputMultiplierAppliedInForward()): hold the table in an Embedding module, or leave options.RuleOptions.InputMultiplier at 1.");
                }
            }
            else
            {
                if (structure.Readout is null && structure.Blocks.Count > 0)
                {
                    findings.Problem($"no readout was found, so the logits may come from the embedding table (x @ wte.weight.T), and folding alpha_in ({multipliers.Embedding}) into the tables would scale them too: " +
                                     "declare the Linear that computes the logits with .Readout(\"name\"), or, for logits computed in the forward, declare .OutputMultiplierAppliedInForward() (alpha_in then acts through hooks on the embeddings).");
                }

                Fold(structure.Parameters.Where(p => p.IsInput), MultiplierKind.Embedding);
            }
        }

        // The unembedding multiplier alpha_out * m_N^-1, on the logits. A readout tied to a table that carries alpha_in
        // needs alpha_out * m_N^-1 / alpha_in, which is not 1 even where the unembedding multiplier is.
        var readoutRows = structure.Parameters.Where(p => p.IsReadout).ToList();
        bool inFolded = !hookInputs && multipliers.Embedding.Value != 1.0;
        if (declarations.OutputMultiplierInForward)
        {
            if (multipliers.Output.Value != 1.0)
            {
                findings.Info("(logits)", $"the unembedding multiplier {multipliers.Output} is applied by the model's own forward (declared with .OutputMultiplierAppliedInForward()).");
            }
        }
        else if (structure.ReadoutIsTied && structure.Readout is { } tiedReadout)
        {
            var value = inFolded ? multipliers.Output.DividedBy("alpha_in", multipliers.Embedding.Value) : multipliers.Output;
            if (value.Value != 1.0)
            {
                Hook(tiedReadout, MultiplierKind.Output, value,
                    mode == MultiplierMode.Hooks ? "MultiplierMode.Hooks" : $"its weight is tied to the embedding {string.Join(", ", readoutRows.Where(r => r.IsInput).Select(r => r.Name))}, which must not carry the logit multiplier{(inFolded ? " and carries alpha_in" : string.Empty)}");
            }
        }
        else if (multipliers.Output.Value != 1.0)
        {
            if (structure.Readout is { } readout && mode == MultiplierMode.Hooks)
            {
                Hook(readout, MultiplierKind.Output, multipliers.Output, "MultiplierMode.Hooks");
            }
            else if (readoutRows.Count > 0)
            {
                Fold(readoutRows, MultiplierKind.Output);
            }
            else
            {
                findings.Problem($"the logits need the unembedding multiplier {multipliers.Output}, and no readout was found: declare the Linear that computes the logits with .Readout(\"name\"); " +
                                 "if the forward computes them from the embedding table (x @ wte.weight.T) or with a Linear that is not registered, multiply them by plan.Multipliers.Output in the forward and declare .OutputMultiplierAppliedInForward().");
            }
        }

        return (folded, hooks);
    }

    /// <summary>Whether an input module holds the tensor under one of its names (a tied table's first name may be the readout's).</summary>
    private static bool HeldByInput(ModelStructure structure, DiscoveredParameter p) =>
        structure.Inputs.Any(i => i.Name == p.ModuleName || p.SharedWith.Any(a => a.LastIndexOf('.') is var dot && dot >= 0 && a[..dot] == i.Name));
}
