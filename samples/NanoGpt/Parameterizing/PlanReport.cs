using System.Text.Json;
using System.Text.Json.Nodes;
using CompleteP;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// What the parameterization did to a model, measured on the model and the optimizer rather than
/// copied from the plan: per named parameter its role and the forward multiplier folded into it (from
/// the plan), the std of the tensor as initialized, and the learning rate, weight decay and epsilon of
/// the AdamW group that holds it. A tensor with a folded multiplier c holds c W: its std is c times
/// Table 1's, its learning rate c times, its epsilon and weight decay 1/c times.
/// </summary>
public static class PlanReport
{
    /// <summary>
    /// One JSON object: <c>residualMultiplier</c>, <c>outputMultiplier</c>, <c>attentionScale</c> and
    /// <c>parameters</c> (name, shape, role, foldedMultiplier, measuredInitStd, learningRate, weightDecay, adamEpsilon),
    /// one entry per distinct tensor of <c>named_parameters()</c> (a tied lm_head appears once, as
    /// <c>transformer.wte.weight</c>).
    /// </summary>
    public static JsonObject Build(nn.Module model, AdamW optimizer, ParameterizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(plan);
        var parameters = new JsonArray();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var options = GroupOf(optimizer, name, parameter);
            double std;
            using (torch.no_grad())
            using (var s = parameter.std())
            {
                std = s.ToDouble();
            }

            parameters.Add(new JsonObject
            {
                ["name"] = name,
                ["shape"] = new JsonArray(parameter.shape.Select(d => (JsonNode)d).ToArray()),
                ["role"] = JsonNamingPolicy.CamelCase.ConvertName(plan[name].Rule.Role.ToString()),
                ["foldedMultiplier"] = plan[name].Folded?.Value.Value ?? 1.0,
                ["measuredInitStd"] = double.IsFinite(std) ? std : null,
                ["learningRate"] = options.LearningRate,
                ["weightDecay"] = options.weight_decay,
                ["adamEpsilon"] = options.eps,
                ["beta1"] = options.beta1,
                ["beta2"] = options.beta2,
            });
        }

        return new JsonObject
        {
            ["residualMultiplier"] = plan.Multipliers.Residual.Value,
            ["outputMultiplier"] = plan.Multipliers.Output.Value,
            ["attentionScale"] = plan.Multipliers.AttentionScale.Value,
            ["hooks"] = new JsonArray(plan.Hooks.Select(h => (JsonNode)new JsonObject { ["module"] = h.ModuleName, ["kind"] = JsonNamingPolicy.CamelCase.ConvertName(h.Kind.ToString()), ["value"] = h.Value.Value }).ToArray()),
            ["parameters"] = parameters,
        };
    }

    /// <summary>The options of the one AdamW group that holds <paramref name="parameter"/> (matched by handle).</summary>
    private static AdamW.Options GroupOf(AdamW optimizer, string name, Parameter parameter)
    {
        var groups = optimizer.ParamGroups.OfType<ParamGroup>()
            .Where(g => g.Parameters.Any(p => p.Handle == parameter.Handle)).ToList();
        return groups.Count == 1 && groups[0].Options is AdamW.Options options
            ? options
            : throw new InvalidOperationException($"Parameter '{name}' is in {groups.Count} AdamW parameter groups; expected exactly 1.");
    }
}
