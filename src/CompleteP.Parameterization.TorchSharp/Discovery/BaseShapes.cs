using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Reads the base shape and each hidden weight's base fan-in from the same model built at the base
/// shape, as microsoft/mup's base shapes do. The base model is built as its factory builds it (TorchSharp's
/// default device is process-wide, so it is not switched to meta for the call) and disposed at once.
/// </summary>
internal static class BaseShapes
{
    public static (ModelShape Shape, IReadOnlyDictionary<string, long> FanIns) Read(Func<nn.Module> factory, ModelDeclarations declarations, bool allowWidthOnly)
    {
        // Built where the factory builds it (the CPU unless it says otherwise): moving TorchSharp's default device to meta
        // for the call would move it for every thread of the process, and a model another thread built meanwhile would
        // land on the meta device. The base model is the small one.
        var model = factory() ?? throw new ArgumentException("options.BaseModel returned null: it must build the model at the base shape.", "options");
        using (model)
        {
            // A declared width or depth describes the target model, not the base: the base model's are inferred.
            ModelStructure structure;
            try
            {
                structure = StructureDiscovery.Discover(model, declarations with { DeclaredWidth = null, DeclaredDepth = null }, allowWidthOnly);
            }
            catch (ParameterClassificationException e) when (declarations.DeclaredWidth is not null || declarations.DeclaredDepth is not null)
            {
                throw new ParameterClassificationException(e.Problems.Select(p => $"options.BaseModel: {p} (.Width and .Depth declare the target's shape, not the base's: give options.BaseShape instead)").ToList());
            }

            var fanIns = structure.Parameters
                .Where(p => p.FanIn.HasValue)
                .GroupBy(p => p.ShapeKey, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().FanIn!.Value, StringComparer.Ordinal);
            return (new ModelShape(structure.Width, Math.Max(1, structure.RuleDepth)), fanIns);
        }
    }
}
