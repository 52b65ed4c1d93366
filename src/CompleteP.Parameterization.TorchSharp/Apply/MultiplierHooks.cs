using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Makes the forward multipliers happen through forward hooks: each residual branch's output times
/// the residual multiplier, each input module's output times <c>alpha_in</c>, the readout's output
/// times the unembedding multiplier. A multiplier of exactly 1 installs no hook. Hooks fire only when
/// a module is invoked through <c>module.call(x)</c> (TorchSharp), not <c>module.forward(x)</c>.
/// </summary>
internal static class MultiplierHooks
{
    public static void Check(ModelStructure structure, ParameterizationPlan plan)
    {
        var problems = new List<string>();
        if (plan.Multipliers.Output.Value != 1.0)
        {
            if (structure.Readout is null)
            {
                problems.Add($"the unembedding multiplier ({plan.Multipliers.Output}) needs a readout module to scale, and none was found: declare it with .Readout(\"name\").");
            }
            else if (structure.Readout.Value.Module is not nn.Module<Tensor, Tensor>)
            {
                problems.Add($"the readout '{structure.Readout.Value.Name}' is not a Module<Tensor, Tensor>, so its output cannot be scaled by a hook.");
            }
        }

        if (plan.Multipliers.Embedding.Value != 1.0)
        {
            problems.AddRange(structure.InputModules.Where(m => m.Module is not nn.Module<Tensor, Tensor>)
                .Select(m => $"the input module '{m.Name}' is not a Module<Tensor, Tensor>, so alpha_in cannot be applied by a hook."));
        }

        if (problems.Count > 0)
        {
            throw new ParameterClassificationException(problems);
        }
    }

    public static IReadOnlyList<Action> Install(ModelStructure structure, ParameterizationPlan plan)
    {
        var hooks = new List<Action>();
        void Scale(nn.Module module, double multiplier)
        {
            if (multiplier != 1.0 && module is nn.Module<Tensor, Tensor> m)
            {
                var handle = m.register_forward_hook((_, _, output) => output * multiplier);
                hooks.Add(handle.remove);
            }
        }

        foreach (var (_, branch) in structure.ResidualBranches)
        {
            Scale(branch, plan.Multipliers.Residual.Value);
        }

        foreach (var (_, input) in structure.InputModules)
        {
            Scale(input, plan.Multipliers.Embedding.Value);
        }

        if (structure.Readout is { } readout)
        {
            Scale(readout.Module, plan.Multipliers.Output.Value);
        }

        foreach (var attention in structure.AttentionModules)
        {
            attention.AttentionScale = plan.Multipliers.AttentionScale.Value;
        }

        return hooks;
    }
}
