using CompleteP.Discovery;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Finds where NaN or an infinity first appears in a forward pass: every module that can be hooked (a Tensor-to-Tensor
/// module invoked through <c>call</c>) is watched, and the first whose output holds one, in the order the modules finish
/// (a child before its parent, so the innermost), is the source. A module invoked through <c>.forward(x)</c> runs no hook
/// and cannot be watched; then the first parameter that holds NaN or an infinity is named, if any.
/// </summary>
public static class NonFiniteValues
{
    /// <summary>Runs <paramref name="forward"/> once without gradients and returns where NaN or an infinity first appears.</summary>
    /// <param name="model">The model.</param>
    /// <param name="forward">One forward pass of the model (e.g. <c>() =&gt; model.call(batch)</c>).</param>
    /// <returns>The module whose output first held it, else <c>parameter 'name'</c> for a parameter that holds one, else null.</returns>
    public static string? Locate(nn.Module model, Action forward)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forward);
        var tree = ModuleTree.Of(model);
        string? first = null;
        var removers = new List<Action>();
        foreach (var m in tree.Modules)
        {
            if (m.Module is nn.Module<Tensor, Tensor> hookable)
            {
                string name = m.Name.Length == 0 ? "(root)" : m.Name;
                var handle = hookable.register_forward_hook((_, _, output) =>
                {
                    if (first is null && output.is_floating_point() && !output.isfinite().all().item<bool>())
                    {
                        first = name;
                    }

                    return output;
                });
                removers.Add(handle.remove);
            }
        }

        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            forward();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The forward itself may fail on such values; what was seen until then still counts.
        }
        finally
        {
            removers.ForEach(r => r());
        }

        if (first is not null)
        {
            return first;
        }

        using (no_grad())
        {
            var parameter = tree.Parameters.FirstOrDefault(p => p.Tensor.is_floating_point() && p.Tensor.numel() > 0 && !p.Tensor.isfinite().all().item<bool>());
            return parameter is null ? null : $"parameter '{parameter.Name}'";
        }
    }

    /// <summary>The exception for a non-finite value found at a step, with the source and what to do.</summary>
    internal static NonFiniteValueException Exception(int step, string quantity, string kind, string? source, string? run) => new(
        $"{(run is null ? string.Empty : run + ": ")}the {quantity} is {kind} at step {step}; " +
        (source is null
            ? "no module output (of those invoked through .call) nor any parameter holds NaN or an infinity, so it arises outside them (in the loss, or in a module invoked through .forward). "
            : $"it first appears in {(source.StartsWith("parameter ", StringComparison.Ordinal) ? source : $"the output of '{source}'")}. ") +
        "Lower the learning rate (or check the initialization and the multipliers of the plan), and clip the gradients (ParameterizedGradients.ClipGradNorm).",
        step, quantity, source);
}
