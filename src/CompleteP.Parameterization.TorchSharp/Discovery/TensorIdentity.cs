using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Parameterization.TorchSharp;

/// <summary>
/// Decides whether two parameter objects are the same tensor. TorchSharp can hand out two wrappers
/// (different objects, different handles) for one storage: tying <c>lm_head.weight = wte.weight</c>
/// does, while the other direction gives one object. Same object or handle is the same tensor; else,
/// for tensors of equal shape, dtype and device whose first elements agree, a probe adds 1 to the
/// first element of one and looks whether the other changed (then undoes it). Meta tensors hold no
/// values and are compared by object and handle only.
/// </summary>
internal sealed class TensorIdentity
{
    private readonly ConditionalWeakTable<Tensor, object> _first = [];

    public bool Same(Tensor a, Tensor b)
    {
        if (ReferenceEquals(a, b) || a.Handle == b.Handle)
        {
            return true;
        }

        if (a.device_type == DeviceType.META || b.device_type == DeviceType.META || a.numel() == 0
            || a.dtype != b.dtype || a.device_type != b.device_type || a.device_index != b.device_index || !a.shape.SequenceEqual(b.shape)
            || !First(a).Equals(First(b)))
        {
            return false;
        }

        using var noGrad = no_grad();
        using var flatA = a.view(-1);
        using var flatB = b.view(-1);
        double before = flatB[0].to(ScalarType.Float64).item<double>();
        flatA[0].add_(1.0);
        double after = flatB[0].to(ScalarType.Float64).item<double>();
        flatA[0].sub_(1.0);
        return after != before;
    }

    private object First(Tensor t) => _first.GetValue(t, x =>
    {
        using var noGrad = no_grad();
        using var flat = x.view(-1);
        return flat[0].to(ScalarType.Float64).item<double>();
    });
}
