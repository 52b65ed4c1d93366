using CompleteP.Parameterization.Parameterizations;
using CompleteP.Parameterization.Plans;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Parameterization.TorchSharp;

using Parameterization = CompleteP.Parameterization.Parameterizations.Parameterization;

/// <summary>
/// Regroups an optimizer's parameters in place into groups whose learning rate, weight decay and
/// epsilon follow the plan, keeping every other option of the group each parameter came from
/// (betas, AMSGrad, maximize, momentum, dampening, Nesterov).
/// </summary>
/// <remarks>
/// TorchSharp 0.107.0 has no API to remove a parameter group, but its optimizers keep their groups
/// in a <c>List&lt;ParamGroup&gt;</c> that <c>ParamGroups</c> returns: the list is cleared and the new
/// groups are added with <c>add_param_group</c>, which also gives each parameter fresh optimizer
/// state (Apply before the first step). Supported: AdamW and Adam (every parameterization) and SGD
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
        var identity = new TensorIdentity();
        var inOptimizer = new List<Parameter>();
        foreach (var p in optimizer.parameters())
        {
            if (inOptimizer.Any(q => identity.Same(q, p)))
            {
                throw new ArgumentException(
                    $"the optimizer holds the parameter [{string.Join("x", p.shape)}] twice (two groups, or a tied weight listed under two wrappers): it would be updated twice per step. Build the optimizer from distinct parameters (for a tied LM head, tie it as wte.weight = lm_head.weight, which TorchSharp lists once).",
                    nameof(optimizer));
            }

            inOptimizer.Add(p);
        }

        bool Known(Parameter p) => structure.Parameters.Any(d => identity.Same(d.Tensor, p));
        var foreign = inOptimizer.Where(p => !Known(p)).ToList();
        if (foreign.Count > 0)
        {
            throw new ArgumentException(
                $"the optimizer holds {foreign.Count} parameter(s) that are not in the model (shapes {string.Join(", ", foreign.Take(5).Select(p => "[" + string.Join("x", p.shape) + "]"))}): build it from this model's parameters.",
                nameof(optimizer));
        }

        var missing = structure.Parameters.Where(d => d.Trainable && !inOptimizer.Any(p => identity.Same(p, d.Tensor))).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"the optimizer misses {missing.Count} trainable parameter(s) of the model: {string.Join(", ", missing.Take(8).Select(d => d.Name))}{(missing.Count > 8 ? ", ..." : "")}. Build it from model.parameters(), or freeze them (requires_grad = false).",
                nameof(optimizer));
        }
    }

    public static void Regroup(optim.Optimizer optimizer, ModelStructure structure, ParameterizationPlan plan)
    {
        var groups = Groups(optimizer);
        var original = groups.ToList();
        var identity = new TensorIdentity();
        int OriginalGroup(Parameter p) => original.FindIndex(g => g.Parameters.Any(q => identity.Same(q, p)));

        var regrouped = new List<(int Source, double Lr, double Wd, double Eps, List<Parameter> Parameters)>();
        foreach (var p in structure.Parameters)
        {
            int source = OriginalGroup(p.Tensor);
            if (source < 0)
            {
                continue; // a frozen parameter the optimizer does not hold
            }

            var rule = plan[p.Name].Rule;
            double lr = rule.LearningRate.Value;
            double wd = plan.Setup.Options.WeightDecayConvention == WeightDecayConvention.Independent
                ? rule.WeightDecay.Value / lr // the group's per-step decay lr * wd then equals the independent value
                : rule.WeightDecay.Value;
            double eps = rule.AdamEpsilon.Value;
            int index = regrouped.FindIndex(g => g.Source == source && g.Lr == lr && g.Wd == wd && g.Eps == eps);
            if (index < 0)
            {
                regrouped.Add((source, lr, wd, eps, [p.Tensor]));
            }
            else
            {
                regrouped[index].Parameters.Add(p.Tensor);
            }
        }

        groups.Clear();
        foreach (var g in regrouped)
        {
            var from = original[g.Source].Options;
            optimizer.add_param_group(optimizer switch
            {
                AdamW => new AdamW.ParamGroup(g.Parameters, CopyAdamW((AdamW.Options)from, g.Lr, g.Wd, g.Eps)),
                Adam => new Adam.ParamGroup(g.Parameters, CopyAdam((Adam.Options)from, g.Lr, g.Wd, g.Eps)),
                _ => new SGD.ParamGroup(g.Parameters, CopySgd((SGD.Options)from, g.Lr, g.Wd)),
            });
        }
    }

    private static List<ParamGroup> Groups(optim.Optimizer optimizer) =>
        optimizer.ParamGroups as List<ParamGroup>
        ?? throw new NotSupportedException($"{optimizer.GetType().Name}.ParamGroups is not a List<ParamGroup>; this TorchSharp version cannot be regrouped in place.");

    private static AdamW.Options CopyAdamW(AdamW.Options o, double lr, double wd, double eps) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd, eps = eps,
        beta1 = o.beta1, beta2 = o.beta2, amsgrad = o.amsgrad, maximize = o.maximize,
    };

    private static Adam.Options CopyAdam(Adam.Options o, double lr, double wd, double eps) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd, eps = eps,
        beta1 = o.beta1, beta2 = o.beta2, amsgrad = o.amsgrad, maximize = o.maximize,
    };

    private static SGD.Options CopySgd(SGD.Options o, double lr, double wd) => new()
    {
        LearningRate = lr, InitialLearningRate = lr, weight_decay = wd,
        momentum = o.momentum, dampening = o.dampening, nesterov = o.nesterov, maximize = o.maximize,
    };
}
