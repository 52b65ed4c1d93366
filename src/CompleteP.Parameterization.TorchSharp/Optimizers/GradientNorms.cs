using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Optimizers;

/// <summary>
/// The few-kernel pieces of fold-aware global-norm clipping, shared by <see cref="ParameterizedGradients"/>
/// and <see cref="FlatAdamW"/>: one 2-norm per run of same-factor tensors (the tensors of a run are concatenated,
/// at most <see cref="ConcatenationLimit"/> elements at a time), the runs' norms scaled by their factors, and one
/// norm over those.
/// </summary>
internal static class GradientNorms
{
    /// <summary>The most elements concatenated for one norm kernel; larger tensors get a norm of their own.</summary>
    public const long ConcatenationLimit = 1L << 24;

    /// <summary>
    /// <c>sqrt(sum_k (c_k * |g_k|)^2)</c> over the gradients <c>g_k</c> with factors <c>c_k</c>, as a 0-dim tensor on
    /// the first gradient's device; nothing is read back to the host. Call inside a dispose scope. With
    /// <paramref name="concatenate"/>, same-factor tensors share norm kernels; without, each tensor gets its own (for
    /// tensors that are already large slices of one buffer).
    /// </summary>
    public static Tensor Total(IReadOnlyList<(Tensor Gradient, double Scale)> gradients, bool concatenate = true)
    {
        var scaled = new List<Tensor>();
        foreach (var run in gradients.GroupBy(g => g.Scale))
        {
            var parts = new List<Tensor>();
            var pending = new List<Tensor>();
            long pendingElements = 0;
            foreach (var (gradient, _) in run)
            {
                long n = gradient.numel();
                if (pending.Count > 0 && (!concatenate || pendingElements + n > ConcatenationLimit))
                {
                    parts.Add(NormOf(pending));
                    pending.Clear();
                    pendingElements = 0;
                }

                pending.Add(gradient);
                pendingElements += n;
            }

            if (pending.Count > 0)
            {
                parts.Add(NormOf(pending));
            }

            var norm = parts.Count == 1 ? parts[0] : linalg.vector_norm(stack(parts.Select(p => p.to(parts[0].device)).ToArray()), 2);
            if (run.Key == 1.0)
            {
                scaled.Add(norm);
            }
            else
            {
                using var factor = run.Key.ToScalar(); // held across the native call (an implicit Scalar is freed by the finalizer alone)
                scaled.Add(norm.mul(factor));
            }
        }

        return scaled.Count == 1 ? scaled[0] : linalg.vector_norm(stack(scaled.Select(s => s.to(scaled[0].device)).ToArray()), 2);
    }

    /// <summary><c>min(1, maxNorm / (total + 1e-6))</c> as a 0-dim tensor, as <c>torch.nn.utils.clip_grad_norm_</c> computes it.</summary>
    public static Tensor ClipCoefficient(Tensor total, double maxNorm)
    {
        using var tiny = 1e-6.ToScalar();
        using var max = maxNorm.ToScalar();
        using var one = 1.0.ToScalar();
        return total.add(tiny).reciprocal_().mul_(max).clamp_max_(one);
    }

    /// <summary>Throws unless <paramref name="maxNorm"/> is finite and positive.</summary>
    public static void CheckMaxNorm(double maxNorm, string parameterName)
    {
        if (!(maxNorm > 0) || !double.IsFinite(maxNorm))
        {
            throw new ArgumentOutOfRangeException(parameterName, maxNorm, $"{parameterName} must be finite and greater than 0 (valid range: (0, +inf)), but was {maxNorm}.");
        }
    }

    private static Tensor NormOf(List<Tensor> tensors) => tensors.Count == 1
        ? linalg.vector_norm(tensors[0], 2)
        : linalg.vector_norm(cat(tensors.Select(t => t.reshape(-1)).ToArray(), 0), 2);
}
