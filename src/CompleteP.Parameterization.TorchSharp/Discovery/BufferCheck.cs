using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Step 6 of discovery: buffers, which no optimizer ever trains. A Linear that keeps its weight matrix as a buffer
/// (a plain Tensor field, which TorchSharp registers as a buffer; inference-oriented Linears and quantized ones do)
/// would silently not train: refused. Other matrix-shaped floating buffers, and a norm's gain or shift kept as a
/// buffer, are warnings on the plan; masks, rotary and position tables and caches are listed as information.
/// </summary>
internal static class BufferCheck
{
    /// <summary>Checks every buffer of the tree.</summary>
    public static void Run(ModuleTree tree, Findings findings)
    {
        foreach (var group in tree.Buffers.GroupBy(b => b.ModuleName))
        {
            var module = tree.Find(group.Key)!;
            bool hasWeight = tree.OwnParameters(module).Any(p => p.Tensor.dim() >= 2);
            if (ModuleKinds.IsLinear(module.Module) && !hasWeight)
            {
                var matrices = group.Where(b => b.Tensor.dim() >= 2 || b.LocalName.Contains("weight", StringComparison.OrdinalIgnoreCase)).ToList();
                if (matrices.Count > 0)
                {
                    bool quantized = matrices.Any(b => !b.Tensor.is_floating_point());
                    findings.Problem($"'{module.Display}' ({module.TypeName}) keeps its weight as a buffer ({string.Join(", ", matrices.Select(b => $"'{b.LocalName}' [{Listing.Shape(b.Tensor.shape)}] {b.Tensor.dtype}"))}), so no optimizer would train it: " +
                                     (quantized
                                         ? "quantized weights cannot be trained; load the model unquantized."
                                         : "TorchSharp registers a plain Tensor field as a buffer; make the weight a Parameter (e.g. a TorchSharp Linear, or `weight = new Parameter(...)`)."));
                    continue;
                }
            }

            foreach (var b in group.Where(b => b.Tensor.is_floating_point()))
            {
                if (ModuleKinds.IsNorm(module.Module) && b.Tensor.dim() == 1 && (b.LocalName is "weight" or "bias"))
                {
                    findings.Warn(b.Name, $"the {(b.LocalName == "weight" ? "gain" : "shift")} of norm '{module.Display}' is a buffer, so it is not trained: make it a Parameter if it should be.");
                }
                else if (b.Tensor.dim() >= 2 && ModuleKinds.IsNonWeightBufferName(b.LocalName))
                {
                    findings.Info(b.Name, $"a [{Listing.Shape(b.Tensor.shape)}] buffer named like a mask, rotary or position table or cache: not trained, as buffers never are.");
                }
                else if (b.Tensor.dim() >= 2)
                {
                    findings.Warn(b.Name, $"a [{Listing.Shape(b.Tensor.shape)}] {b.Tensor.dtype} buffer of '{module.Display}' ({module.TypeName}): buffers are never trained; if it is a weight, make it a Parameter.");
                }
            }
        }
    }
}
