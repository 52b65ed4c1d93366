using CompleteP.Discovery;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Decides where each forward multiplier acts. Folded (the default): each branch's residual multiplier (m_L^-alpha times its
/// per-branch factors) into its output projection or the norm on its output, <c>alpha_in</c> into every input table, the unembedding multiplier into an untied readout; for a
/// readout tied to the embedding (or logits declared to come from the table) into the final norm's gain and shift, as
/// <c>alpha_out / m_N / alpha_in</c> when the table carries <c>alpha_in</c> (not 1 even where the unembedding multiplier alone
/// is), else a hook on the readout. Where the forward computes the logits itself (<c>.OutputMultiplierAppliedInForward()</c>,
/// perhaps from the token table) <c>alpha_in</c> is a hook on the input modules, so that the table stays free of it; with no
/// readout and no declaration, folding <c>alpha_in</c> is refused. Hooks: on each branch, input and readout module. A
/// multiplier of exactly 1 is placed nowhere.
/// </summary>
internal sealed class MultiplierPlacement
{
    private readonly ModelStructure structure;
    private readonly ForwardMultipliers multipliers;
    private readonly Func<string, ScaledValue> residualOf;
    private readonly MultiplierMode mode;
    private readonly ModelDeclarations declarations;
    private readonly Findings findings;
    private readonly Dictionary<string, FoldedMultiplier> folded = new(StringComparer.Ordinal);
    private readonly List<MultiplierHook> hooks = [];

    private MultiplierPlacement(ModelStructure structure, ForwardMultipliers multipliers, Func<string, ScaledValue> residualOf, MultiplierMode mode, ModelDeclarations declarations, Findings findings)
    {
        this.structure = structure;
        this.multipliers = multipliers;
        this.residualOf = residualOf;
        this.mode = mode;
        this.declarations = declarations;
        this.findings = findings;
    }

    /// <summary>
    /// The multiplier folded into each tensor (by name) and the hooks, or problems: each multiplier placed by its own step.
    /// <paramref name="residualOf"/> gives each branch's residual multiplier (<see cref="RuleSet.ResidualMultiplierOf"/>: m_L^-alpha
    /// times its per-branch factors).
    /// </summary>
    public static (IReadOnlyDictionary<string, FoldedMultiplier> Folded, IReadOnlyList<MultiplierHook> Hooks) Decide(
        ModelStructure structure, ForwardMultipliers multipliers, Func<string, ScaledValue> residualOf, ScaledValue blockReadout, MultiplierMode mode,
        ModelDeclarations declarations, Findings findings)
    {
        var placement = new MultiplierPlacement(structure, multipliers, residualOf, mode, declarations, findings);
        placement.Residual();
        bool hookInputs = placement.Inputs();
        placement.Output(hookInputs);
        placement.BlockReadout(blockReadout);
        return (placement.folded, placement.hooks);
    }

    /// <summary>Folds a multiplier into tensors, checked against the core's <see cref="FoldTable"/>: a role that cannot carry it is a bug here.</summary>
    private void Fold(IEnumerable<DiscoveredParameter> rows, MultiplierKind kind, ScaledValue? value = null)
    {
        foreach (var p in rows)
        {
            if (FoldTable.For(p.Role) != kind)
            {
                throw new InvalidOperationException($"internal: the {kind} multiplier was to be folded into '{p.Name}' ({p.Role}), whose role carries {FoldTable.For(p.Role)?.ToString() ?? "none"} (FoldTable).");
            }

            folded[p.Name] = new FoldedMultiplier(kind, value ?? multipliers[kind]);
        }
    }

    private void Hook(TreeModule module, MultiplierKind kind, ScaledValue value, HookReason reason)
    {
        var hook = new MultiplierHook(module.Name, kind, value, reason);
        if (module.Module is nn.Module<Tensor, Tensor>)
        {
            hooks.Add(hook);
        }
        else
        {
            findings.Problem($"the {kind.ToString().ToLowerInvariant()} multiplier ({value}) must be applied to the output of '{module.Display}' by a hook ({hook.Explanation}), " +
                             $"but it is a {module.TypeName}, not a Module<Tensor, Tensor>, whose output a hook can scale{(mode == MultiplierMode.Hooks ? ": use the default MultiplierMode.Fold" : string.Empty)}.");
        }
    }

    /// <summary>The residual multiplier m_L^-alpha (times the branch's own factors), on every residual branch.</summary>
    private void Residual()
    {
        // The residual multiplier m_L^-alpha times the branch's per-branch factors, on every residual branch: after the norm on
        // its output where there is one (a multiplier before a norm is undone by it), else on what its output projections write.
        var unplaced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var branch in structure.Branches)
        {
            var value = residualOf(branch.Name);
            if (value.Value == 1.0)
            {
                continue;
            }

            if (mode == MultiplierMode.Hooks)
            {
                Hook(branch.OutputNorm ?? branch.Module, MultiplierKind.Residual, value, HookReason.HooksMode);
            }
            else if (branch.Writers.Count == 0)
            {
                if (unplaced.Add(branch.Module.LocalName))
                {
                    findings.Problem($"the residual multiplier ({value}) is folded into the Linears that write each branch's output, and {branch.HowFound}.");
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

                Fold(written, MultiplierKind.Residual, value);
            }
        }
    }

    /// <summary>alpha_in, on every input; returns whether it acts through hooks (then the tables do not carry it).</summary>
    private bool Inputs()
    {
        // alpha_in, on every input table and input layer. When the forward computes the logits itself (possibly from the
        // token table, x @ wte.weight.T), folding alpha_in into the tables would scale those logits too: it is a hook then.
        bool hookInputs = mode == MultiplierMode.Hooks || declarations.OutputMultiplierInForward;
        if (multipliers.Embedding.Value != 1.0)
        {
            if (hookInputs)
            {
                var reason = mode == MultiplierMode.Hooks ? HookReason.HooksMode : HookReason.LogitsInForward;
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
                if (structure.Readout is null && structure.Blocks.Count > 0 && !declarations.LogitsFromEmbedding)
                {
                    findings.Problem($"no readout was found, so the logits may come from the embedding table (x @ wte.weight.T), and folding alpha_in ({multipliers.Embedding}) into the tables would scale them too: " +
                                     "declare the Linear that computes the logits with .Readout(\"name\"); for logits computed from the table after the final norm, declare .LogitsFromEmbeddingTable() " +
                                     "(alpha_in is then undone in that norm); for logits the forward multiplies itself, .OutputMultiplierAppliedInForward() (alpha_in then acts through hooks on the embeddings).");
                }

                Fold(structure.Parameters.Where(p => p.IsInput), MultiplierKind.Embedding);
            }
        }

        return hookInputs;
    }

    /// <summary>The unembedding multiplier alpha_out * m_N^-1, on the logits.</summary>
    private void Output(bool hookInputs)
    {
        // The unembedding multiplier alpha_out * m_N^-1, on the logits. Logits read from a table that carries alpha_in (a tied
        // readout, or a matmul with the table) need alpha_out * m_N^-1 / alpha_in: not 1 even where the unembedding multiplier is.
        var readoutRows = structure.Parameters.Where(p => p.IsReadout).ToList();
        bool inFolded = !hookInputs && multipliers.Embedding.Value != 1.0;
        ScaledValue FromTable() => inFolded ? multipliers.Output.DividedBy("alpha_in", multipliers.Embedding.Value) : multipliers.Output;
        if (declarations.OutputMultiplierInForward)
        {
            if (multipliers.Output.Value != 1.0)
            {
                findings.Info("(logits)", $"the unembedding multiplier {multipliers.Output} is applied by the model's own forward (declared with .OutputMultiplierAppliedInForward()).");
            }
        }
        else if (structure.ReadoutIsTied && structure.Readout is { } tiedReadout)
        {
            var value = FromTable();
            if (value.Value != 1.0)
            {
                string table = string.Join(", ", readoutRows.Where(r => r.IsInput).Select(r => r.Name));
                if (mode == MultiplierMode.Fold && FinalNormGain(structure) is { } norm)
                {
                    // The tied table is also the embedding and must not carry the logit multiplier. The logits are linear in
                    // the gain and shift of the final norm, whose output the readout reads: fold it there (no hook to be skipped).
                    Fold(norm.Rows.Concat(readoutRows.Where(r => !r.IsInput)), MultiplierKind.Output, value);
                    findings.Info(norm.Module.Name, $"the unembedding multiplier {value} is folded into the gain and shift of the final norm '{norm.Module.Name}', whose output the readout " +
                                                    $"'{tiedReadout.Name}' (tied to {table}) maps to the logits; exact when '{norm.Module.Name}' feeds only the readout.");
                }
                else
                {
                    Hook(tiedReadout, MultiplierKind.Output, value, mode == MultiplierMode.Hooks ? HookReason.HooksMode : HookReason.TiedReadout);
                }
            }
        }
        else if (declarations.LogitsFromEmbedding && structure.Readout is null && readoutRows.Count == 0)
        {
            var value = FromTable();
            if (value.Value != 1.0)
            {
                if (mode == MultiplierMode.Fold && FinalNormGain(structure) is { } norm)
                {
                    Fold(norm.Rows, MultiplierKind.Output, value);
                    findings.Info(norm.Module.Name, $"the unembedding multiplier {value} is folded into the gain and shift of the final norm '{norm.Module.Name}', whose output the forward multiplies " +
                                                    "by the embedding table (declared with .LogitsFromEmbeddingTable()); exact when its output feeds only the logits.");
                }
                else
                {
                    findings.Problem($"the logits need the unembedding multiplier {value}, declared to come from the embedding table with .LogitsFromEmbeddingTable(), but " +
                                     (mode == MultiplierMode.Hooks
                                         ? "MultiplierMode.Hooks cannot hook a matmul: use the default MultiplierMode.Fold."
                                         : "no single final norm with a gain follows the blocks to fold it into: multiply the logits by plan.Multipliers.Output in the forward and declare .OutputMultiplierAppliedInForward() instead."));
                }
            }
        }
        else if (multipliers.Output.Value != 1.0)
        {
            if (mode == MultiplierMode.Hooks && (structure.Readout is not null || readoutRows.Count > 0))
            {
                // The readout, and every module holding a tensor declared TensorRole.Unembedding (an auxiliary head).
                var heads = readoutRows.Select(r => structure.Tree.Find(r.ModuleName)!).Prepend(structure.Readout).OfType<TreeModule>().Distinct().ToList();
                heads.ForEach(h => Hook(h, MultiplierKind.Output, multipliers.Output, HookReason.HooksMode));
            }
            else if (readoutRows.Count > 0)
            {
                Fold(readoutRows, MultiplierKind.Output);
            }
            else
            {
                string fix = FinalNormGain(structure) is { } finalNorm && structure.Parameters.Any(p => p.IsInput)
                    ? $"if the forward computes them from the embedding table after the final norm '{finalNorm.Module.Name}' (x @ wte.weight.T), declare .LogitsFromEmbeddingTable() (the multiplier is then folded into that norm's gain and shift); " +
                      "if it computes them with a Linear that is not registered, multiply them by plan.Multipliers.Output in the forward and declare .OutputMultiplierAppliedInForward()."
                    : "if the forward computes them from the embedding table (x @ wte.weight.T) or with a Linear that is not registered, multiply them by plan.Multipliers.Output in the forward and declare .OutputMultiplierAppliedInForward().";
                findings.Problem($"the logits need the unembedding multiplier {multipliers.Output}, and no readout was found: declare the Linear that computes the logits with .Readout(\"name\"); " + fix);
            }
        }
    }

    /// <summary>m_N^-1 on the logits of every output-like Linear inside a block (an MoE router): folded into its weight and bias, or a hook.</summary>
    private void BlockReadout(ScaledValue blockReadout)
    {
        // m_N^-1 on the logits of every output-like Linear inside a block (an MoE router): folded into its weight and bias, or a hook.
        if (blockReadout.Value != 1.0)
        {
            var rows = structure.Parameters.Where(p => p.Role == TensorRole.BlockReadout).ToList();
            if (mode == MultiplierMode.Hooks)
            {
                foreach (var module in rows.Select(r => structure.Tree.Find(r.ModuleName)!).Distinct())
                {
                    Hook(module, MultiplierKind.BlockReadout, blockReadout, HookReason.HooksMode);
                }
            }
            else
            {
                var tied = rows.Where(p => p.SharedWith.Count > 0).ToList();
                if (tied.Count > 0)
                {
                    findings.Problem($"'{tied[0].Name}', an output-like weight inside a block, is tied to {string.Join(", ", tied[0].SharedWith)}: its multiplier {blockReadout} cannot be folded into a shared tensor; use MultiplierMode.Hooks.");
                }

                Fold(rows, MultiplierKind.BlockReadout, blockReadout);
            }
        }
    }

    /// <summary>Whether an input module holds the tensor under one of its names (a tied table's first name may be the readout's).</summary>
    private static bool HeldByInput(ModelStructure structure, DiscoveredParameter p) =>
        structure.Inputs.Any(i => i.Name == p.ModuleName || p.SharedWith.Any(a => a.LastIndexOf('.') is var dot && dot >= 0 && a[..dot] == i.Name));

    /// <summary>The final norm (<see cref="ModelStructure.FinalNorm"/>) with its gain and shift, or null when there is none or it has no gain.</summary>
    private static (TreeModule Module, IReadOnlyList<DiscoveredParameter> Rows)? FinalNormGain(ModelStructure structure)
    {
        var norm = structure.FinalNorm;
        var rows = norm is null ? [] : structure.Parameters.Where(p => p.ModuleName == norm.Name).ToList();
        return norm is not null && rows.Any(r => !r.IsBias) ? (norm, rows) : null;
    }
}
