using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Step 3b of discovery: proof, where a block can be called on a tensor, that each branch's output projections do write
/// what the branch adds to the residual stream. Scaling them by 2 must change the block's output; where it does not, a
/// norm acts on the branch's output before it is added (<c>x + norm(attn(x))</c>) under names that did not say so, and a
/// residual multiplier folded into the projections would be undone by it: refused, naming the branch and the declaration
/// that fixes it. Projections still at zero (a zero init) cannot tell and are skipped. Blocks that take records, or whose forward fails on a random (2, 4, N) input, are not probed (the names
/// decide for them: docs/bring-your-own-model.md). Nothing is left changed: the weights are scaled back exactly and each
/// module's train/eval mode is restored. The probe does run the block's forward (in eval mode, 1 + branches times, under
/// no_grad), so forward hooks on its modules see those calls.
/// </summary>
internal static class BranchOutputProbe
{
    /// <summary>Probes the first block's branches whose residual multiplier would be folded into their output projections.</summary>
    public static void Run(ModuleTree tree, TreeModule block, IReadOnlyList<ResidualBranch> branches, int width, Findings findings)
    {
        var probed = branches.Where(b => b.OutputNorm is null && b.OutputProjections.Count > 0).ToList();
        var first = tree.Parameters.FirstOrDefault(p => ModuleTree.IsInside(p.Name, block.Name))?.Tensor;
        if (probed.Count == 0 || block.Module is not nn.Module<Tensor, Tensor> callable || first is null || first.device_type == DeviceType.META || !first.is_floating_point())
        {
            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var modes = tree.Subtree(block).Select(m => (m.Module, m.Module.training)).ToList();
        block.Module.eval();
        try
        {
            using var generator = new Generator(20250501);
            var x = randn([2, 4, width], dtype: first.dtype, device: first.device, generator: first.device_type == DeviceType.CPU ? generator : null);
            var before = callable.forward(x);
            double added = (before - x).norm().to(ScalarType.Float64).item<double>();
            foreach (var branch in probed)
            {
                var tensors = branch.OutputProjections.SelectMany(p => tree.OwnParameters(p)).Select(p => p.Tensor).ToList();
                if (tensors.All(t => t.numel() == 0 || t.abs().max().to(ScalarType.Float64).item<double>() == 0))
                {
                    continue; // zero-initialized projections (a common init) write nothing yet: nothing to tell
                }

                tensors.ForEach(t => t.mul_(2));
                double changed;
                try
                {
                    changed = (callable.forward(x) - before).norm().to(ScalarType.Float64).item<double>();
                }
                finally
                {
                    tensors.ForEach(t => t.div_(2));
                }

                if (added > 0 && changed <= 1e-3 * added)
                {
                    findings.Problem($"scaling the output projection(s) of branch '{branch.Name}' ({string.Join(", ", branch.OutputProjections.Select(p => p.LocalName))}) by 2 leaves the output of '{block.Name}' unchanged: " +
                                     "a norm acts on the branch's output before it is added to the residual stream (x + norm(branch(x)), as OLMo-2 and Gemma write), and a residual multiplier " +
                                     "folded into the projections would be undone by it. Declare that norm with .BranchOutputNorms(...) (names relative to a block, one per branch), " +
                                     "and the multiplier is folded into its gain and shift.");
                }
            }
        }
        catch (Exception e) when (e is not ParameterClassificationException)
        {
            findings.Info(block.Name, $"the branch outputs were not probed: the block's forward failed on a random (2, 4, {width}) input ({e.GetType().Name}); the block norms' names decided where the residual multiplier acts.");
        }
        finally
        {
            foreach (var (module, training) in modes)
            {
                module.train(training); // each module's own mode back (train(bool) would set the whole subtree to one)
            }
        }
    }
}
