using CompleteP.Discovery;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP;


/// <summary>
/// Regroups an optimizer's parameters in place into groups whose learning rate, weight decay and
/// epsilon follow the plan, and, when the plan's setup has training shapes (batch size and length), Adam's betas;
/// every other option comes from the group each parameter came from (the betas without training shapes, AMSGrad,
/// maximize, momentum, dampening, Nesterov).
/// </summary>
/// <remarks>
/// TorchSharp 0.107.0 has no API to remove a parameter group, but its optimizers keep their groups
/// in a <c>List&lt;ParamGroup&gt;</c> that <c>ParamGroups</c> returns: its content is replaced by the new
/// groups, which hold the same parameter objects, so each parameter keeps the optimizer state the
/// optimizer already made for it (keyed by handle). Apply before the first step all the same: the
/// moments of a step taken under other learning rates would carry over. Supported: AdamW and Adam (every parameterization) and SGD
/// (SP only: Table 1 of Dey et al. 2025 gives rules for Adam-type optimizers only).
/// </remarks>
internal static class OptimizerRegrouping
{
    public static void Validate(optim.Optimizer optimizer, ModelStructure structure, Parameterization parameterization)
    {
        if (optimizer is not (AdamW or Adam or SGD))
        {
            throw new NotSupportedException(
                $"optimizer {optimizer.GetType().Name} is not supported: CompleteP.Parameterization regroups AdamW, Adam and SGD (SGD with SP only).");
        }

        if (optimizer is SGD && parameterization.Kind != ParameterizationKind.Standard)
        {
            throw new NotSupportedException(
                $"SGD has no {parameterization} rules: Table 1 of Dey et al. (2025) gives the rules for Adam-type optimizers; use AdamW or Adam, or SP with SGD.");
        }

        _ = Groups(optimizer);
        var held = optimizer.parameters().ToList();
        var canonical = TensorIdentity.Canonical(structure.Parameters.Select(d => (Tensor)d.Tensor).Concat(held).ToList());
        int n = structure.Parameters.Count;
        var seen = new Dictionary<int, int>();
        for (int i = 0; i < held.Count; i++)
        {
            int id = canonical[n + i];
            if (!seen.TryAdd(id, i))
            {
                string which = id < n
                    ? $"'{structure.Parameters[id].Name}'{(structure.Parameters[id].SharedWith.Count > 0 ? $" (= {string.Join(", ", structure.Parameters[id].SharedWith)})" : string.Empty)} "
                    : string.Empty;
                throw new ArgumentException(
                    $"the optimizer holds the parameter {which}[{Listing.Shape(held[i].shape)}] twice (two groups, or a tied weight listed under two wrappers): it would be updated twice per step. Build the optimizer from distinct parameters (for a tied LM head, tie it as wte.weight = lm_head.weight, which TorchSharp lists once).",
                    nameof(optimizer));
            }
        }

        var foreign = Enumerable.Range(0, held.Count).Where(i => canonical[n + i] >= n).Select(i => held[i]).ToList();
        if (foreign.Count > 0)
        {
            throw new ArgumentException(
                $"the optimizer holds {foreign.Count} parameter(s) that are not in the model (shapes {string.Join(", ", foreign.Take(5).Select(p => "[" + Listing.Shape(p.shape) + "]"))}): build it from this model's parameters.",
                nameof(optimizer));
        }

        var missing = structure.Parameters.Where((d, i) => d.Trainable && !seen.ContainsKey(canonical[i])).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"the optimizer misses {missing.Count} trainable parameter(s) of the model: {Listing.FirstOf(missing.Select(d => d.Name).ToList(), 8)}. Build it from model.parameters(), or freeze them (requires_grad = false).",
                nameof(optimizer));
        }
    }

    public static void Regroup(optim.Optimizer optimizer, ModelStructure structure, ParameterizationPlan plan)
    {
        var groups = Groups(optimizer);
        var original = groups.ToList();
        var held = original.SelectMany((g, gi) => g.Parameters.Select(p => (Tensor: p, Group: gi))).ToList();
        int n = structure.Parameters.Count;
        var canonical = TensorIdentity.Canonical(structure.Parameters.Select(d => (Tensor)d.Tensor).Concat(held.Select(h => (Tensor)h.Tensor)).ToList());
        var rowOf = new Dictionary<int, DiscoveredParameter>();
        for (int i = 0; i < n; i++)
        {
            rowOf.TryAdd(canonical[i], structure.Parameters[i]);
        }

        // One new group per (original group, lr, wd, eps), in the plan's order; each holds the optimizer's own
        // parameter objects, whose state (keyed by handle) stays as it is.
        var regrouped = new List<(int Source, double Lr, double Wd, double Eps, double C, (double, double)? Betas, List<Parameter> Parameters)>();
        bool transferBetas = plan.Setup.Training is not null; // the square-root rule's betas; without it the optimizer's own
        var order = structure.Parameters.Select((d, i) => (d.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        foreach (var (tensor, source, row) in held.Select((h, i) => (h.Tensor, h.Group, rowOf[canonical[n + i]])).OrderBy(h => order[h.Item3.Name]))
        {
            var rule = plan[row.Name].Applied;
            double lr = rule.LearningRate;
            double wd = plan.Setup.Options.WeightDecayConvention == WeightDecayConvention.Independent
                ? rule.WeightDecay / lr // the group's per-step decay lr * wd then equals the independent value
                : rule.WeightDecay;
            double eps = rule.AdamEpsilon;
            double c = plan[row.Name].Folded?.Value.Value ?? 1.0; // one folded multiplier per group, for clipping as the unfolded model
            (double, double)? betas = transferBetas ? (rule.Beta1, rule.Beta2) : null;
            int index = regrouped.FindIndex(g => g.Source == source && g.Lr == lr && g.Wd == wd && g.Eps == eps && g.C == c && g.Betas == betas);
            if (index < 0)
            {
                regrouped.Add((source, lr, wd, eps, c, betas, [tensor]));
            }
            else
            {
                regrouped[index].Parameters.Add(tensor);
            }
        }

        // Replace the groups in place. add_param_group is not used: it would allocate fresh state for every
        // parameter and leave the optimizer's existing (zero, before the first step) state to the finalizer.
        groups.Clear();
        foreach (var g in regrouped)
        {
            var from = original[g.Source].Options;
            groups.Add(optimizer switch
            {
                AdamW => new AdamW.ParamGroup(g.Parameters, CopyAdamW((AdamW.Options)from, g.Lr, g.Wd, g.Eps, g.Betas)),
                Adam => new Adam.ParamGroup(g.Parameters, CopyAdam((Adam.Options)from, g.Lr, g.Wd, g.Eps, g.Betas)),
                _ => new SGD.ParamGroup(g.Parameters, CopySgd((SGD.Options)from, g.Lr, g.Wd)),
            });
        }
    }

    /// <summary>
    /// With training shapes, each group takes the plan's betas, transferred from the base betas of the hyperparameters: a
    /// warning when the optimizer was built with other betas, which are replaced (they may be the ones meant as the base).
    /// </summary>
    public static IEnumerable<PlanDiagnostic> BetaWarnings(optim.Optimizer? optimizer, RuleSetup setup)
    {
        if (optimizer is null || setup.Training is null)
        {
            return [];
        }

        var hp = setup.Hyperparameters;
        var differing = Groups(optimizer).Select(g => g.Options switch
            {
                AdamW.Options o => (o.beta1, o.beta2),
                Adam.Options o => (o.beta1, o.beta2),
                _ => ((double?)null, (double?)null),
            })
            .Where(b => b.Item1 is not null && (b.Item1 != hp.Beta1 || b.Item2 != hp.Beta2)).Distinct().ToList();
        if (differing.Count == 0)
        {
            return [];
        }

        string F(double? v) => ScaledValue.Format(v ?? double.NaN);
        return [new PlanDiagnostic(DiagnosticSeverity.Warning, "(betas)",
            $"the optimizer was built with betas {string.Join(", ", differing.Select(b => $"({F(b.Item1)}, {F(b.Item2)})"))}, but the base betas of options.Hyperparameters are " +
            $"({F(hp.Beta1)}, {F(hp.Beta2)}): with training shapes every group takes the betas the square-root rule transfers from the base ones " +
            $"({TrainingRules.Beta1(setup)}; {TrainingRules.Beta2(setup)}), not the optimizer's. Give BaseHyperparameters the betas tuned at the base run.")];
    }

    private static List<ParamGroup> Groups(optim.Optimizer optimizer) =>
        optimizer.ParamGroups as List<ParamGroup>
        ?? throw new NotSupportedException($"{optimizer.GetType().Name}.ParamGroups is not a List<ParamGroup>; this TorchSharp version cannot be regrouped in place.");

    private static AdamW.Options CopyAdamW(AdamW.Options o, double lr, double wd, double eps, (double Beta1, double Beta2)? betas) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd, eps = eps,
        beta1 = betas?.Beta1 ?? o.beta1, beta2 = betas?.Beta2 ?? o.beta2, amsgrad = o.amsgrad, maximize = o.maximize,
    };

    private static Adam.Options CopyAdam(Adam.Options o, double lr, double wd, double eps, (double Beta1, double Beta2)? betas) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd, eps = eps,
        beta1 = betas?.Beta1 ?? o.beta1, beta2 = betas?.Beta2 ?? o.beta2, amsgrad = o.amsgrad, maximize = o.maximize,
    };

    private static SGD.Options CopySgd(SGD.Options o, double lr, double wd) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd,
        momentum = o.momentum, dampening = o.dampening, nesterov = o.nesterov, maximize = o.maximize,
    };
}
