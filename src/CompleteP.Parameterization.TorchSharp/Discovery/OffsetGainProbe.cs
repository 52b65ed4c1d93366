using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// A step of discovery before the blocks: every norm written outside TorchSharp whose gain is a <c>weight</c> parameter is
/// called once with that weight (and its bias) set to zero. A norm that multiplies by the weight (<c>weight * x_hat</c>,
/// LLaMA's and OLMo's RMSNorm) then outputs zero; one that multiplies by <c>1 + weight</c> (Gemma's RMSNorm, whose weight
/// starts at 0) still outputs the normalized input. Table 1 sets a norm's gain to 1 and folds multipliers into it by
/// scaling it: for a <c>(1 + weight)</c> norm both would be wrong (the init 1 doubles its gain, a folded c gives 1 + c), so
/// such a norm is refused by name, with the rewrite that makes it plannable. TorchSharp's own norms are never probed.
/// The weight and bias are restored exactly; a norm whose forward fails on a random (2, N) input is not probed. The
/// probe runs the norm's forward once under no_grad, so forward hooks on it see that call.
/// </summary>
internal static class OffsetGainProbe
{
    /// <summary>Refuses every norm whose output is computed with <c>1 + weight</c>.</summary>
    public static void Run(ModuleTree tree, Findings findings)
    {
        using var generator = new Generator(20251205);
        foreach (var norm in tree.Modules.Where(m => ModuleKinds.IsNorm(m.Module) && m.Module.GetType().Namespace != typeof(TorchSharp.Modules.LayerNorm).Namespace))
        {
            var own = tree.OwnParameters(norm).ToList();
            var weight = own.FirstOrDefault(p => p.LocalName == "weight")?.Tensor;
            if (norm.Module is not nn.Module<Tensor, Tensor> callable || weight is null || weight.dim() != 1 || weight.numel() < 2
                || weight.device_type == DeviceType.META || !weight.is_floating_point())
            {
                continue;
            }

            if (OutputsWithZeroGain(callable, weight, own.FirstOrDefault(p => p.LocalName == "bias")?.Tensor, generator) == true)
            {
                findings.Problem($"'{norm.Name}' ({norm.TypeName}) computes its output with (1 + weight), as Gemma's RMSNorm does: with its weight set to 0 it still outputs the normalized input. " +
                                 "Its weight is not the gain Table 1 initializes to 1 and folds multipliers into (the plan would double its gain and fold c as 1 + c). " +
                                 "Write the norm as weight * x_hat with the weight initialized to 1 (to load a Gemma checkpoint, add 1 to each such weight), then Apply plans it exactly.");
            }
        }
    }

    /// <summary>Whether the norm's output is nonzero with a zero weight and bias; null when its forward fails on a (2, N) input.</summary>
    private static bool? OutputsWithZeroGain(nn.Module<Tensor, Tensor> norm, Tensor weight, Tensor? bias, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var saved = (Weight: weight.clone(), Bias: bias?.clone());
        try
        {
            weight.zero_();
            bias?.zero_();
            var x = randn([2, weight.shape[0]], dtype: weight.dtype, device: weight.device, generator: weight.device_type == DeviceType.CPU ? generator : null);
            return norm.forward(x).abs().max().to(ScalarType.Float64).item<double>() > 1e-6;
        }
        catch (Exception e) when (e is not ParameterClassificationException)
        {
            return null;
        }
        finally
        {
            weight.copy_(saved.Weight);
            bias?.copy_(saved.Bias!);
        }
    }
}
