using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Optimizers;

/// <summary>
/// For each distinct parameter of a model, the factor <c>c</c> that turns its gradient into the gradient the
/// unfolded model would see: a tensor that stores <c>V = c W</c> gets <c>grad(V) = grad(W) / c</c>, so
/// <c>grad(W) = c grad(V)</c>. <c>c</c> is the plan row's folded multiplier, or 1.
/// </summary>
internal static class FoldedGradientScales
{
    /// <summary>
    /// The model's parameters with their factor, each tensor once: names map to plan rows (a tied tensor's
    /// other names through <see cref="PlanRow.SharedWith"/>), and two names of one row count once.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter of the model has no row in the plan.</exception>
    public static List<(Parameter Parameter, double Scale)> Resolve(nn.Module model, ParameterizationPlan plan)
    {
        var rowByName = RowsByName(plan);
        var result = new List<(Parameter, double)>();
        var seenRows = new HashSet<PlanRow>(ReferenceEqualityComparer.Instance);
        var seenHandles = new HashSet<IntPtr>();
        var missing = new List<string>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!rowByName.TryGetValue(name, out var row))
            {
                missing.Add(name);
                continue;
            }

            if (seenRows.Add(row) && seenHandles.Add(parameter.Handle))
            {
                result.Add((parameter, row.Folded?.Value.Value ?? 1.0));
            }
        }

        ThrowIfMissing(missing);
        return result;
    }

    /// <summary>The factor of every parameter handle the model hands out (each wrapper of a tied tensor included).</summary>
    /// <exception cref="ArgumentException">A parameter of the model has no row in the plan.</exception>
    public static Dictionary<IntPtr, double> ByHandle(nn.Module model, ParameterizationPlan plan)
    {
        var rowByName = RowsByName(plan);
        var result = new Dictionary<IntPtr, double>();
        var missing = new List<string>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (rowByName.TryGetValue(name, out var row))
            {
                result[parameter.Handle] = row.Folded?.Value.Value ?? 1.0;
            }
            else
            {
                missing.Add(name);
            }
        }

        ThrowIfMissing(missing);
        return result;
    }

    private static Dictionary<string, PlanRow> RowsByName(ParameterizationPlan plan)
    {
        var rowByName = new Dictionary<string, PlanRow>(StringComparer.Ordinal);
        foreach (var row in plan.Rows)
        {
            rowByName.TryAdd(row.Name, row);
            foreach (var other in row.SharedWith)
            {
                rowByName.TryAdd(other, row);
            }
        }

        return rowByName;
    }

    private static void ThrowIfMissing(List<string> missing)
    {
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"the model has {missing.Count} parameter(s) that are not in the plan: {Listing.FirstOf(missing, 8)}. Pass the plan that Parameterize.Apply returned for this model.",
                "plan");
        }
    }
}
