using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Optimizers;

/// <summary>
/// Gradient clipping that sees the model the paper writes down, also when a forward multiplier is folded into a
/// tensor's values. A tensor that stores <c>V = c W</c> gets the gradient <c>grad(W) / c</c>, so clipping the stored
/// gradients' norm would clip a different model: these helpers clip the norm
/// <c>sqrt(sum_p (c_p * |grad_p|)^2)</c> that the unfolded model has (<c>c_p</c> is the plan row's
/// <see cref="PlanRow.Folded"/> multiplier, 1 when nothing is folded), scaling every gradient by
/// <c>min(1, maxNorm / (norm + 1e-6))</c> exactly as <c>torch.nn.utils.clip_grad_norm_</c> does.
/// </summary>
/// <remarks>
/// Same-factor gradients are concatenated for one norm kernel (up to 16 M elements at a time), so the norm costs a
/// few kernels whatever the number of tensors; the scaling is one multiply per tensor. With <see cref="FlatAdamW"/>,
/// use its <see cref="FlatAdamW.SetGradientClipping(double, nn.Module, ParameterizationPlan)"/> instead: there the scaling is one multiply per group.
/// </remarks>
/// <example>
/// <code>
/// loss.backward();
/// ParameterizedGradients.ClipGradNorm(model, plan, maxNorm: 1.0);
/// optimizer.step();
/// </code>
/// </example>
public static class ParameterizedGradients
{
    /// <summary>
    /// Clips the gradients of <paramref name="model"/> in place to the global 2-norm <paramref name="maxNorm"/>, measured
    /// on the unfolded model, and returns that norm (before clipping). Reading the norm waits for the device; in a loop
    /// that should not, use <see cref="ClipGradNormOnDevice"/>.
    /// </summary>
    /// <param name="model">The parameterized model (its gradients are scaled in place; tensors without a gradient are skipped).</param>
    /// <param name="plan">The plan <see cref="Parameterize.Apply"/> returned for it.</param>
    /// <param name="maxNorm">The largest global norm; finite and greater than 0.</param>
    /// <returns>The global gradient norm of the unfolded model, before clipping (0 when no tensor has a gradient).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">A parameter of the model has no row in the plan.</exception>
    public static double ClipGradNorm(nn.Module model, ParameterizationPlan plan, double maxNorm)
    {
        using var norm = ClipGradNormOnDevice(model, plan, maxNorm);
        return norm.ToDouble();
    }

    /// <summary>
    /// The same as <see cref="ClipGradNorm"/>, without waiting for the device: returns the norm as a 0-dim tensor on the
    /// gradients' device (the caller disposes it; reading it waits for the device).
    /// </summary>
    /// <param name="model">The parameterized model.</param>
    /// <param name="plan">The plan <see cref="Parameterize.Apply"/> returned for it.</param>
    /// <param name="maxNorm">The largest global norm; finite and greater than 0.</param>
    /// <returns>The global gradient norm of the unfolded model, before clipping (a CPU zero when no tensor has a gradient).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">A parameter of the model has no row in the plan.</exception>
    public static Tensor ClipGradNormOnDevice(nn.Module model, ParameterizationPlan plan, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        GradientNorms.CheckMaxNorm(maxNorm, nameof(maxNorm));
        var scales = FoldedGradientScales.Resolve(model, plan);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var gradients = new List<(Tensor, double)>(scales.Count);
        foreach (var (parameter, scale) in scales)
        {
            if (parameter.grad is { } gradient)
            {
                gradients.Add((gradient, scale));
            }
        }

        if (gradients.Count == 0)
        {
            return zeros([]).MoveToOuterDisposeScope();
        }

        var total = GradientNorms.Total(gradients);
        var coefficient = GradientNorms.ClipCoefficient(total, maxNorm);
        foreach (var (gradient, _) in gradients)
        {
            gradient.mul_(coefficient.to(gradient.device));
        }

        return total.MoveToOuterDisposeScope();
    }
}
