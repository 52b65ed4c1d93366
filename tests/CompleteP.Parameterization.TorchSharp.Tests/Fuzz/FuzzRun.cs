using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Fuzz;

/// <summary>What happened to one fuzzed tree.</summary>
public enum FuzzOutcome
{
    /// <summary>A plan that covers every tensor, whose rules, folds, hooks, init and optimizer groups are as expected, and whose forward is Table 1's.</summary>
    Parameterized,

    /// <summary>Refused by Apply (ParameterClassificationException or ArgumentException), naming the culprit, with nothing changed.</summary>
    Refused,

    /// <summary>Anything else: a wrong exception, a silent skip, a wrong number, a refusal of a valid tree, an acceptance of an invalid one.</summary>
    Failed,
}

/// <summary>
/// Runs Apply on one fuzzed tree and judges it against what the spec says the tree is: the expected roles, folds and
/// hooks, the expected refusals (each with a fragment of the message that must name the culprit), the re-initialization
/// replayed from the same seed, the optimizer's groups, and the forward pass against <see cref="FuzzReference"/>.
/// </summary>
public static class FuzzRun
{
    private const double Lr = 1e-3, Std = 0.02, Wd = 0.1, Eps = 1e-8;

    /// <summary>Applies the library to the tree and judges the result.</summary>
    /// <param name="s">The tree.</param>
    /// <param name="residualFactors">False for a judge broken on purpose, whose reference forward ignores the per-branch residual factors.</param>
    /// <returns>The outcome and what it rests on.</returns>
    public static (FuzzOutcome Outcome, string Detail) Run(TreeSpec s, bool residualFactors = true)
    {
        manual_seed(s.Seed);
        using var model = new FuzzModel(s);
        using var ids = randint(0, s.Vocab, [2, s.Length], dtype: ScalarType.Int64, generator: new Generator((ulong)s.Seed));
        var parameters = NamedParameters(model);
        var before = parameters.ToDictionary(p => p.Key, p => p.Value.detach().clone());
        var byStorage = parameters.GroupBy(p => p.Value.Handle).Select(g => g.First()).ToList();
        var held = s.OptimizerFromAllParameters
            ? model.parameters().ToList()
            : parameters.Where(p => !(s.Readout == ReadoutKind.TiedHeadTakesTable && p.Key == s.ReadoutName + ".weight")).GroupBy(p => p.Value.Handle)
                .Select(g => g.First().Value).Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(held);
        var setup = Setup(s);
        var rules = RulesEngine.Compute(setup);
        var m = rules.Multipliers;
        var applyRefusals = ExpectedRefusals(s, m);

        ParameterizationPlan plan;
        try
        {
            plan = Apply(s, model, optimizer, ids);
        }
        catch (Exception e) when (e is ParameterClassificationException or ArgumentException)
        {
            if (applyRefusals.Count == 0)
            {
                return (FuzzOutcome.Failed, $"refused a tree it should parameterize: {e.GetType().Name}: {e.Message}");
            }

            if (!applyRefusals.Any(f => e.Message.Contains(f, StringComparison.Ordinal)))
            {
                return (FuzzOutcome.Failed, $"refused without naming any of {string.Join(", ", applyRefusals.Select(f => $"'{f}'"))}: {e.Message}");
            }

            var changed = parameters.Where(p => !Same(p.Value.detach(), before[p.Key])).Select(p => p.Key).ToList();
            if (changed.Count > 0)
            {
                return (FuzzOutcome.Failed, $"refused, but changed {string.Join(", ", changed)} (nothing may change when Apply throws)");
            }

            return (FuzzOutcome.Refused, e.Message);
        }
        catch (Exception e)
        {
            return (FuzzOutcome.Failed, $"threw {e.GetType().Name}, not a ParameterClassificationException or ArgumentException: {e.Message}\n{e.StackTrace}");
        }

        if (applyRefusals.Count > 0)
        {
            return (FuzzOutcome.Failed, $"parameterized a tree it should refuse (expected a message naming one of {string.Join(", ", applyRefusals.Select(f => $"'{f}'"))})");
        }

        var problems = new List<string>();
        if (s.Permuted)
        {
            CheckSameAsUnpermuted(s, plan, problems);
        }

        CheckPlan(s, plan, rules, parameters, problems);
        CheckValues(s, plan, parameters, before, problems);
        CheckGroups(s, plan, optimizer, parameters, problems);
        if (problems.Count > 0)
        {
            return (FuzzOutcome.Failed, string.Join("; ", problems.Take(6)));
        }

        // The forward: Table 1's function of the unfolded weights.
        model.OutputScale = s.Readout == ReadoutKind.Matmul && s.DeclareLogitsInForward ? plan.Multipliers.Output.Value : 1.0;
        Tensor logits;
        try
        {
            using (no_grad())
            {
                logits = model.call(ids);
            }
        }
        catch (Exception e)
        {
            return (FuzzOutcome.Failed, $"the forward threw {e.GetType().Name}: {e.Message}");
        }

        var unfolded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var row in plan.Rows)
        {
            // The divisor as a Scalar held across the native call: an implicit one is freed by the finalizer alone, which
            // once freed it mid-call here (a garbage Scalar in THSTensor_div_scalar).
            using var folded = (row.Folded?.Value.Value ?? 1.0).ToScalar();
            var value = parameters[row.Name].detach().div(folded);
            foreach (var name in row.SharedWith.Prepend(row.Name))
            {
                unfolded[name] = value;
            }
        }

        var mixing = model.named_buffers().Where(b => b.name == "mixing").Select(b => b.buffer).FirstOrDefault();
        Tensor expected;
        using (no_grad())
        {
            expected = FuzzReference.Logits(s, ids, n => unfolded.TryGetValue(n, out var t) ? t : throw new KeyNotFoundException($"no plan row holds '{n}'"),
                n => unfolded.GetValueOrDefault(n), plan.Multipliers, mixing, BlockReadout(s), residualFactors);
        }

        double scale = 1 + expected.abs().max().item<double>();
        double error = (logits - expected).abs().max().item<double>();
        if (!(error <= 1e-10 * scale))
        {
            return (FuzzOutcome.Failed, $"the forward is not Table 1's: max |logits - expected| = {error:G3} (logits up to {scale:G3}); residual x{m.Residual.Value:G4}{(s.ResidualFactors.Count == 0 ? "" : $" (branch factors {string.Join(", ", s.ResidualFactors)})")}, output x{m.Output.Value:G4}, alpha_in {m.Embedding.Value}");
        }

        return (FuzzOutcome.Parameterized, $"{plan.Rows.Count} rows, {plan.Rows.Count(r => r.Folded is not null)} folded, {plan.Hooks.Count} hooks");
    }

    /// <summary>The rule setup of a tree: its base is half its width and one block deeper; its residual factors are per-module base hyperparameters.</summary>
    public static RuleSetup Setup(TreeSpec s) =>
        new(Parameterization.Parse(s.Parameterization), new ModelShape(s.Width / 2, s.Depth + 1), new ModelShape(s.Width, s.Depth), s.HeadDim,
            new BaseHyperparameters(Lr, Std, Wd, Eps, modules: Modules(s)), new RuleOptions { InputMultiplier = s.AlphaIn, OutputMultiplier = s.AlphaOut });

    /// <summary>The tree's residual factors as <c>res</c> entries of options.Hyperparameters.Modules (null where it has none).</summary>
    private static IReadOnlyList<ModuleHyperparameter>? Modules(TreeSpec s) => s.ResidualFactors.Count == 0 ? null
        : [.. s.ResidualFactors.Select(f => new ModuleHyperparameter(f.Pattern, HyperparameterField.ResidualMultiplier, f.Factor))];

    /// <summary>The residual multiplier of branch <paramref name="b"/> of block <paramref name="i"/>, by the test's own glob (<see cref="FuzzReference.BranchResidual"/>).</summary>
    private static double BranchResidual(TreeSpec s, int i, BranchSpec b, ForwardMultipliers m) => FuzzReference.BranchResidual(s, FuzzReference.BranchName(s, i, b), m.Residual.Value);

    /// <summary>The multiplier on an MoE router's logits, m_N^-1 (1 without width rules).</summary>
    public static double BlockReadout(TreeSpec s) => RulesEngine.BlockReadoutMultiplier(Setup(s)).Value;

    private static ParameterizationPlan Apply(TreeSpec s, FuzzModel model, optim.Optimizer optimizer, Tensor ids)
    {
        var setup = Setup(s);
        using var generator = new Generator((ulong)s.Seed);
        return Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = setup.Parameterization,
            BaseShape = setup.BaseShape,
            HeadDim = s.HeadDim,
            Hyperparameters = setup.Hyperparameters,
            RuleOptions = setup.Options,
            Multipliers = s.Mode,
            Declarations = Declarations(s),
            SampleForward = s.SampleForward ? () => model.call(ids) : null,
            Generator = generator,
        });
    }

    /// <summary>
    /// Registration order never changes a plan: the same tree with every child registered in its default order gets the
    /// same rows (by name: role, rule, multiplier folded in, branch, trainable) and the same hooks.
    /// </summary>
    private static void CheckSameAsUnpermuted(TreeSpec s, ParameterizationPlan plan, List<string> problems)
    {
        var u = s.Unpermuted;
        manual_seed(u.Seed);
        using var model = new FuzzModel(u);
        using var ids = randint(0, u.Vocab, [2, u.Length], dtype: ScalarType.Int64, generator: new Generator((ulong)u.Seed));
        var held = u.OptimizerFromAllParameters
            ? model.parameters().ToList()
            : NamedParameters(model).Where(p => !(u.Readout == ReadoutKind.TiedHeadTakesTable && p.Key == u.ReadoutName + ".weight")).GroupBy(p => p.Value.Handle)
                .Select(g => g.First().Value).Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(held);
        ParameterizationPlan other;
        try
        {
            other = Apply(u, model, optimizer, ids);
        }
        catch (Exception e)
        {
            problems.Add($"parameterized in the drawn registration order, but refused in the default order: {e.GetType().Name}: {e.Message}");
            return;
        }

        var rows = other.Rows.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var row in plan.Rows)
        {
            if (!rows.TryGetValue(row.Name, out var o))
            {
                problems.Add($"registration order: '{row.Name}' has a row only in the drawn order");
            }
            else if (o.Rule != row.Rule || o.Folded != row.Folded || o.ResidualBranch != row.ResidualBranch || o.Trainable != row.Trainable || !o.Shape.SequenceEqual(row.Shape)
                     || !o.SharedWith.Order(StringComparer.Ordinal).SequenceEqual(row.SharedWith.Order(StringComparer.Ordinal)))
            {
                problems.Add($"registration order changes the row of '{row.Name}': {row.Rule.Role} folded {row.Folded?.Kind.ToString() ?? "-"} branch {row.ResidualBranch ?? "-"} " +
                             $"in the drawn order, {o.Rule.Role} folded {o.Folded?.Kind.ToString() ?? "-"} branch {o.ResidualBranch ?? "-"} in the default one");
            }
        }

        if (other.Rows.Count != plan.Rows.Count)
        {
            problems.Add($"registration order: {plan.Rows.Count} rows in the drawn order, {other.Rows.Count} in the default one");
        }

        var hooks = plan.Hooks.Select(h => (h.ModuleName, h.Kind, h.Value.Value)).Order().ToList();
        var otherHooks = other.Hooks.Select(h => (h.ModuleName, h.Kind, h.Value.Value)).Order().ToList();
        if (!hooks.SequenceEqual(otherHooks))
        {
            problems.Add($"registration order changes the hooks: [{string.Join(", ", hooks)}] in the drawn order, [{string.Join(", ", otherHooks)}] in the default one");
        }
    }

    /// <summary>Same shape and bitwise the same values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a.numel() == 0 || a.eq(b).all().item<bool>());

    /// <summary>Every parameter under every name a module registers it, as discovery reads the tree.</summary>
    public static Dictionary<string, Parameter> NamedParameters(nn.Module root)
    {
        var all = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        void Walk(string prefix, nn.Module module)
        {
            if (!seen.Add(module))
            {
                return;
            }

            foreach (var (name, p) in module.named_parameters(recurse: false))
            {
                all[prefix.Length == 0 ? name : prefix + "." + name] = p;
            }

            foreach (var (name, child) in module.named_children())
            {
                Walk(prefix.Length == 0 ? name : prefix + "." + name, child);
            }
        }

        Walk(string.Empty, root);
        return all;
    }

    private static ModelDeclarations Declarations(TreeSpec s)
    {
        var d = ModelDeclarations.None;
        if (s.DeclareBlocks)
        {
            d = d.Blocks(s.Container switch
            {
                BlockContainer.Siblings => "block_*",
                BlockContainer.Stages => s.BlocksPath + ".*.*",
                _ => s.BlocksPath,
            });
        }

        if (s.DeclareBranches)
        {
            d = d.ResidualBranches([.. s.Branches.Select(b => b.Name)]);
        }

        if (s.DeclareOutputs)
        {
            d = d.OutputProjections([.. s.Branches.SelectMany(b => b.IsMoe
                ? new[] { $"{b.Name}.experts.*.{b.Output}" }.Concat(b.SharedExpert ? [$"{b.Name}.shared_expert.{b.Output}"] : [])
                : [$"{b.Name}.{b.Output}"])]);
        }

        if (s.DeclareOutputNorms)
        {
            d = d.BranchOutputNorms([.. s.Branches.Select(b => b.PostNormName).OfType<string>()]);
        }

        if (s.DeclareReadout)
        {
            d = d.Readout(s.ReadoutName);
        }

        if (s.RootGain && s.DeclareGain)
        {
            d = d.Role("logit_gain", TensorRole.FinalNorm);
        }

        if (s.DeclareLogitsInForward)
        {
            d = d.OutputMultiplierAppliedInForward();
        }

        if (s.DeclareLogitsFromTable)
        {
            d = d.LogitsFromEmbeddingTable();
        }

        if (s.BogusDeclaration == "no_such_head")
        {
            d = d.Readout("no_such_head");
        }
        else if (s.BogusDeclaration == "no_such_blocks")
        {
            d = d.Blocks("no_such_blocks");
        }

        return d;
    }

    /// <summary>
    /// The refusals the spec calls for, each as a fragment of Apply's message that must name the culprit (a hook with no
    /// SampleForward to prove it, or one on a module invoked through .forward, included).
    /// </summary>
    public static List<string> ExpectedRefusals(TreeSpec s, ForwardMultipliers m)
    {
        var apply = new List<string>();
        bool ain = m.Embedding.Value != 1, aout = m.Output.Value != 1;
        if (s.BogusDeclaration is { } bogus)
        {
            apply.Add(bogus);
        }

        if (s.RootGain && !s.DeclareGain)
        {
            apply.Add("logit_gain");
        }

        // Logits from the table with no declaration: refused when they need the logit multiplier, or when alpha_in would be folded into the table.
        bool fromTable = s.DeclareLogitsFromTable && !s.DeclareLogitsInForward;
        if (s.Readout == ReadoutKind.Matmul && !s.DeclareLogitsInForward && !fromTable && (aout || (ain && s.Mode == MultiplierMode.Fold)))
        {
            apply.Add("OutputMultiplierAppliedInForward");
        }

        // Declared to come from the table: folded into the final norm, which must be there (and Hooks cannot hook a matmul).
        if (s.Readout == ReadoutKind.Matmul && fromTable && TableFactor(s, m) != 1 && (!FinalNormAfterBlocks(s) || s.Mode == MultiplierMode.Hooks))
        {
            apply.Add("LogitsFromEmbeddingTable");
        }

        if (s.Readout == ReadoutKind.TiedHeadTakesTable && s.OptimizerFromAllParameters)
        {
            apply.Add("twice");
        }

        var attention = s.Branches.FirstOrDefault(b => b.IsAttention);
        // Its writers are not found: refused where some block's attention branch has a residual multiplier other than 1 to fold.
        if (attention is { Fused: false, Output: "mix", PostNormName: null } && !s.DeclareOutputs && s.Mode == MultiplierMode.Fold
            && Enumerable.Range(0, s.Depth).Any(i => BranchResidual(s, i, attention, m) != 1))
        {
            apply.Add("OutputProjections");
        }

        // A residual factor whose pattern matches no branch's module name (a norm, an output projection, a misspelling).
        apply.AddRange(s.ResidualFactors.Where(f => !FuzzReference.BranchNames(s).Any(n => FuzzReference.GlobMatches(f.Pattern, n)))
            .Select(f => $"'{f}' selects no residual branch"));

        // A single block registered on its own (no container, no run of siblings) is not found: declare it.
        if (s.Container == BlockContainer.Siblings && s.Depth == 1 && !s.DeclareBlocks)
        {
            apply.Add(".Blocks(");
        }

        if (HookInputs(s) && s.Position == 2 && ain)
        {
            apply.Add("pos_emb");
        }

        // Hooks: the modules whose outputs they scale, and how each is invoked.
        var hookedModules = ExpectedHooks(s, m).Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
        var how = new Dictionary<string, Invocation>(StringComparer.Ordinal)
        {
            [FuzzReference.Table(s)] = s.Outer,
            [s.ReadoutName] = s.Outer,
        };
        if (FuzzReference.PositionModule(s) is { } wpe)
        {
            how[wpe] = s.Outer;
        }

        for (int i = 0; i < s.Depth; i++)
        {
            foreach (var b in s.Branches)
            {
                how[$"{FuzzReference.Block(s, i)}.{b.Name}"] = b.Invoked;
                if (b.PostNormName is { } post)
                {
                    how[$"{FuzzReference.Block(s, i)}.{post}"] = b.Invoked;
                }

                if (b.IsMoe)
                {
                    how[$"{FuzzReference.Block(s, i)}.{b.Name}.gate"] = b.Inner;
                }
            }
        }

        if (hookedModules.Count > 0 && !s.SampleForward)
        {
            apply.Add("options.SampleForward");
        }
        else
        {
            apply.AddRange(hookedModules.Where(n => how[n] == Invocation.Forward).Select(n => $"'{n}'"));
        }

        return apply;
    }

    /// <summary>
    /// Whether the final norm is registered after the blocks, which is how discovery tells it from a norm on the inputs (one
    /// registered before the blocks takes no logit multiplier). The fuzzed tree registers its siblings after everything else.
    /// </summary>
    private static bool FinalNormAfterBlocks(TreeSpec s) => s.FinalNorm && s.Container != BlockContainer.Siblings;

    /// <summary>The logit factor of logits read from the token table: alpha_out / m_N, divided by alpha_in where the table carries it (folded).</summary>
    private static double TableFactor(TreeSpec s, ForwardMultipliers m) => m.Output.Value / (m.Embedding.Value != 1 && !HookInputs(s) ? m.Embedding.Value : 1.0);

    /// <summary>Whether alpha_in acts through hooks on the input modules (Hooks, or a forward that computes the logits itself) rather than folded into the tables.</summary>
    private static bool HookInputs(TreeSpec s) => s.Mode == MultiplierMode.Hooks || (s.Readout == ReadoutKind.Matmul && s.DeclareLogitsInForward);

    /// <summary>The role and bias flag the spec gives a tensor name.</summary>
    private static (TensorRole Role, bool IsBias) ExpectedRole(TreeSpec s, string name)
    {
        bool bias = name.EndsWith(".bias", StringComparison.Ordinal);
        if (name == FuzzReference.Table(s) + ".weight" || name == "pos_emb" || (FuzzReference.PositionModule(s) is { } wpe && name == wpe + ".weight")
            || (s.Readout != ReadoutKind.Untied && name == s.ReadoutName + ".weight"))
        {
            return (TensorRole.Embedding, false);
        }

        if (name == "logit_gain" || name.StartsWith(FuzzReference.FinalNorm(s) + ".", StringComparison.Ordinal))
        {
            return (TensorRole.FinalNorm, bias);
        }

        if (name.StartsWith(s.ReadoutName + ".", StringComparison.Ordinal))
        {
            return (TensorRole.Unembedding, bias);
        }

        // A norm inside a branch over fewer features than the width, a divisor of it, is a QK-norm; one over the width a hidden norm.
        var qk = s.Branches.FirstOrDefault(b => b.QkNorm != QkNormKind.None && (name.Contains($".{b.Name}.q_norm.", StringComparison.Ordinal) || name.Contains($".{b.Name}.k_norm.", StringComparison.Ordinal)));
        if (qk is not null)
        {
            int size = qk.QkNorm == QkNormKind.PerHead ? s.HeadDim : s.Width;
            return (size != s.Width && s.Width % size == 0 ? TensorRole.QkNorm : TensorRole.HiddenNorm, bias);
        }

        // An MoE router (width -> experts, beside the experts): output-like, a block readout.
        if (s.Branches.Any(b => b.IsMoe && name.EndsWith($".{b.Name}.gate.weight", StringComparison.Ordinal)))
        {
            return (TensorRole.BlockReadout, false);
        }

        bool norm = s.BlockNorms.Any(n => name.Contains("." + n + ".", StringComparison.Ordinal) || name.StartsWith(n + ".", StringComparison.Ordinal));
        return norm ? (TensorRole.HiddenNorm, bias) : (bias ? TensorRole.HiddenBias : TensorRole.HiddenWeight, bias);
    }

    /// <summary>The multiplier the spec says is folded into a tensor (MultiplierMode.Fold), or null.</summary>
    private static MultiplierKind? ExpectedFold(TreeSpec s, string name, ForwardMultipliers m)
    {
        if (s.Mode != MultiplierMode.Fold)
        {
            return null;
        }

        var (role, _) = ExpectedRole(s, name);
        if (role == TensorRole.Embedding && name != "logit_gain")
        {
            return m.Embedding.Value != 1 && !HookInputs(s) ? MultiplierKind.Embedding : null;
        }

        if (role == TensorRole.Unembedding)
        {
            return m.Output.Value != 1 ? MultiplierKind.Output : null;
        }

        // Logits read from the table (a tied readout, or declared .LogitsFromEmbeddingTable()) take their factor in the final norm.
        bool readsTable = s.Readout is ReadoutKind.TiedHeadTakesTable or ReadoutKind.TiedTableTakesHead
                          || (s.Readout == ReadoutKind.Matmul && s.DeclareLogitsFromTable && !s.DeclareLogitsInForward);
        if (role == TensorRole.FinalNorm && name != "logit_gain")
        {
            return readsTable && FinalNormAfterBlocks(s) && TableFactor(s, m) != 1 ? MultiplierKind.Output : null;
        }

        if (role == TensorRole.BlockReadout)
        {
            return BlockReadout(s) != 1 ? MultiplierKind.BlockReadout : null;
        }

        // A tensor that writes a branch's output carries that branch's own residual multiplier, where it is not 1.
        return WrittenBranch(s, name) is var (i, b) && BranchResidual(s, i, b, m) != 1 ? MultiplierKind.Residual : null;
    }

    /// <summary>The block and branch whose output a tensor (by full name) writes, or null.</summary>
    private static (int Block, BranchSpec Branch)? WrittenBranch(TreeSpec s, string name)
    {
        for (int i = 0; i < s.Depth; i++)
        {
            string block = FuzzReference.Block(s, i);
            foreach (var b in s.Branches)
            {
                if (FuzzReference.WritersOf(b).Any(w => name == $"{block}.{w}.weight" || name == $"{block}.{w}.bias"))
                {
                    return (i, b);
                }
            }
        }

        return null;
    }

    private static void CheckPlan(TreeSpec s, ParameterizationPlan plan, RuleSet rules, Dictionary<string, Parameter> parameters, List<string> problems)
    {
        if (plan.Setup.Target != new ModelShape(s.Width, s.Depth))
        {
            problems.Add($"target shape {plan.Setup.Target}, not width {s.Width}, depth {s.Depth}");
        }

        if (plan.Multipliers != rules.Multipliers)
        {
            problems.Add("the plan's multipliers are not the engine's for the tree's shape");
        }

        var covered = plan.Rows.SelectMany(r => r.SharedWith.Prepend(r.Name)).ToList();
        foreach (var name in parameters.Keys.Where(n => !covered.Contains(n)))
        {
            problems.Add($"'{name}' has no plan row (a silent skip)");
        }

        foreach (var name in covered.Where(n => !parameters.ContainsKey(n)))
        {
            problems.Add($"the plan names '{name}', which the model does not have");
        }

        foreach (var row in plan.Rows)
        {
            var (role, isBias) = ExpectedRole(s, row.Name);
            if (row.Rule.Role != role || row.Rule.IsBias != isBias)
            {
                problems.Add($"'{row.Name}' is {row.Rule.Role}{(row.Rule.IsBias ? " bias" : "")}, expected {role}{(isBias ? " bias" : "")}");
                continue;
            }

            if (row.Rule != rules.RuleFor(new TensorDescriptor(role, isBias)))
            {
                problems.Add($"'{row.Name}' has a rule other than Table 1's for {role}");
            }

            if (row.Trainable != parameters[row.Name].requires_grad)
            {
                problems.Add($"'{row.Name}' trainable {row.Trainable}, but requires_grad is {parameters[row.Name].requires_grad}");
            }

            var fold = ExpectedFold(s, row.Name, plan.Multipliers);
            if (row.Folded?.Kind != fold)
            {
                problems.Add($"'{row.Name}' has {(row.Folded is null ? "no multiplier" : row.Folded.Kind + " multiplier")} folded in, expected {(fold is null ? "none" : fold.ToString())}");
            }
        }

        var hooks = plan.Hooks.Select(h => (h.ModuleName, h.Kind)).OrderBy(h => h.ModuleName).ToList();
        var expectedHooks = ExpectedHooks(s, plan.Multipliers).OrderBy(h => h.Name).ToList();
        if (!hooks.SequenceEqual(expectedHooks))
        {
            problems.Add($"hooks [{string.Join(", ", hooks)}], expected [{string.Join(", ", expectedHooks)}]");
        }
    }

    internal static IEnumerable<(string Name, MultiplierKind Kind)> ExpectedHooks(TreeSpec s, ForwardMultipliers m)
    {
        bool tied = s.Readout is ReadoutKind.TiedHeadTakesTable or ReadoutKind.TiedTableTakesHead;
        if (s.Mode == MultiplierMode.Fold)
        {
            // A tied readout's table carries alpha_in when it is folded: alpha_out / m_N / alpha_in goes into the final norm, or a hook without one.
            if (tied && !FinalNormAfterBlocks(s) && TableFactor(s, m) != 1)
            {
                yield return (s.ReadoutName, MultiplierKind.Output);
            }

            if (HookInputs(s) && m.Embedding.Value != 1)
            {
                yield return (FuzzReference.Table(s), MultiplierKind.Embedding);
                if (FuzzReference.PositionModule(s) is { } position)
                {
                    yield return (position, MultiplierKind.Embedding);
                }
            }

            yield break;
        }

        for (int i = 0; i < s.Depth; i++)
        {
            foreach (var b in s.Branches.Where(b => BranchResidual(s, i, b, m) != 1))
            {
                // Each branch whose own residual multiplier is not 1, after the norm on its output where there is one.
                yield return ($"{FuzzReference.Block(s, i)}.{b.PostNormName ?? b.Name}", MultiplierKind.Residual);
            }
        }

        if (m.Embedding.Value != 1)
        {
            yield return (FuzzReference.Table(s), MultiplierKind.Embedding);
            if (FuzzReference.PositionModule(s) is { } wpe)
            {
                yield return (wpe, MultiplierKind.Embedding);
            }
        }

        if (m.Output.Value != 1 && s.Readout != ReadoutKind.Matmul)
        {
            yield return (s.ReadoutName, MultiplierKind.Output);
        }

        if (BlockReadout(s) != 1)
        {
            for (int i = 0; i < s.Depth; i++)
            {
                foreach (var b in s.Branches.Where(b => b.IsMoe))
                {
                    yield return ($"{FuzzReference.Block(s, i)}.{b.Name}.gate", MultiplierKind.BlockReadout);
                }
            }
        }
    }

    /// <summary>The values after Apply: trainable tensors re-drawn in plan order from the seed's generator, frozen ones kept (times a folded multiplier).</summary>
    private static void CheckValues(TreeSpec s, ParameterizationPlan plan, Dictionary<string, Parameter> parameters, Dictionary<string, Tensor> before, List<string> problems)
    {
        using var replay = new Generator((ulong)s.Seed);
        using var noGrad = no_grad();
        foreach (var row in plan.Rows)
        {
            var actual = parameters[row.Name].detach();
            double c = row.Folded?.Value.Value ?? 1.0;
            Tensor expected;
            if (!row.Trainable)
            {
                expected = before[row.Name] * c;
            }
            else if (row.Applied.InitKind == InitKind.Constant || row.Applied.InitValue == 0)
            {
                expected = full(actual.shape, row.Applied.InitKind == InitKind.Constant ? row.Applied.InitValue : 0.0, dtype: actual.dtype);
            }
            else
            {
                expected = empty(actual.shape, dtype: actual.dtype).normal_(0.0, row.Applied.InitValue, replay);
            }

            if (!Same(actual, expected))
            {
                problems.Add($"'{row.Name}' does not hold its applied init ({row.Applied.Explained.Init}{(row.Trainable ? "" : ", frozen: kept x c")})");
            }
        }
    }

    private static void CheckGroups(TreeSpec s, ParameterizationPlan plan, optim.Optimizer optimizer, Dictionary<string, Parameter> parameters, List<string> problems)
    {
        var groups = optimizer.ParamGroups.Cast<ParamGroup>().ToList();
        foreach (var row in plan.Rows.Where(r => r.Trainable))
        {
            var handles = row.SharedWith.Prepend(row.Name).Select(n => parameters[n].Handle).ToHashSet();
            var holding = groups.Where(g => g.Parameters.Any(p => handles.Contains(p.Handle))).ToList();
            if (holding.Count != 1)
            {
                problems.Add($"'{row.Name}' is in {holding.Count} optimizer groups");
                continue;
            }

            var options = (AdamW.Options)holding[0].Options;
            var rule = row.Applied;
            if (holding[0].LearningRate != rule.LearningRate || options.weight_decay != rule.WeightDecay || options.eps != rule.AdamEpsilon)
            {
                problems.Add($"'{row.Name}' trains with lr {holding[0].LearningRate:G6}, wd {options.weight_decay:G6}, eps {options.eps:G6}, not the plan's {rule.LearningRate:G6}, {rule.WeightDecay:G6}, {rule.AdamEpsilon:G6}");
            }
        }
    }
}
