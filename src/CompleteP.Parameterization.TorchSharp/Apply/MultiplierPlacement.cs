using CompleteP.Discovery;
using CompleteP.Rules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Decides where each forward multiplier acts. Folded (the default): the residual multiplier into each branch's
/// output projection, <c>alpha_in</c> into every input table, the unembedding multiplier into an untied readout;
/// a readout tied to the embedding keeps a hook (its table is also the embedding, which must not carry the logit
/// multiplier). Hooks: on each branch, input and readout module. A multiplier of exactly 1 is placed nowhere.
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

        // alpha_in, on every input table and input layer.
        if (multipliers.Embedding.Value != 1.0)
        {
            if (mode == MultiplierMode.Hooks)
            {
                foreach (var input in structure.Inputs)
                {
                    Hook(input, MultiplierKind.Embedding, multipliers.Embedding, "MultiplierMode.Hooks");
                }

                foreach (var raw in structure.Parameters.Where(p => p.IsInput && !structure.Inputs.Any(i => i.Name == p.ModuleName)))
                {
                    findings.Problem($"'{raw.Name}' is an input table held by no input module, so no hook can scale it by alpha_in: use the default MultiplierMode.Fold.");
                }
            }
            else
            {
                Fold(structure.Parameters.Where(p => p.IsInput), MultiplierKind.Embedding);
            }
        }

        // The unembedding multiplier alpha_out * m_N^-1, on the logits.
        if (multipliers.Output.Value != 1.0)
        {
            var readoutRows = structure.Parameters.Where(p => p.IsReadout).ToList();
            if (declarations.OutputMultiplierInForward)
            {
                findings.Info("(logits)", $"the unembedding multiplier {multipliers.Output} is applied by the model's own forward (declared with .OutputMultiplierAppliedInForward()).");
            }
            else if (structure.ReadoutIsTied && structure.Readout is { } tiedReadout)
            {
                bool inFolded = mode == MultiplierMode.Fold && multipliers.Embedding.Value != 1.0;
                var value = inFolded ? multipliers.Output.DividedBy("alpha_in", multipliers.Embedding.Value) : multipliers.Output;
                Hook(tiedReadout, MultiplierKind.Output, value,
                    mode == MultiplierMode.Hooks ? "MultiplierMode.Hooks" : $"its weight is tied to the embedding {string.Join(", ", readoutRows.Where(r => r.IsInput).Select(r => r.Name))}, which must not carry the logit multiplier");
            }
            else if (structure.Readout is { } readout && mode == MultiplierMode.Hooks)
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
}
