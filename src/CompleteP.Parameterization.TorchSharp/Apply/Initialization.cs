using CompleteP.Rules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>Re-initializes every trainable tensor per its rule, in plan order, so that a seed or generator reproduces it.</summary>
internal static class Initialization
{
    public static void Apply(IReadOnlyList<DiscoveredParameter> parameters, ParameterizationPlan plan, Generator? generator)
    {
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            if (!p.Trainable)
            {
                continue; // frozen tensors keep their (e.g. pretrained) values
            }

            var rule = plan[p.Name].Applied;
            double value = rule.InitValue;
            if (rule.InitKind == InitKind.Constant || value == 0)
            {
                p.Tensor.fill_(rule.InitKind == InitKind.Constant ? value : 0.0);
            }
            else
            {
                // nn.init.normal_ ignores its generator argument in TorchSharp 0.107.0; Tensor.normal_ honours it.
                p.Tensor.normal_(0.0, value, generator);
            }
        }
    }
}
