using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Reads the base shape and each hidden weight's base fan-in from the same model built at the base
/// shape, as microsoft/mup's base shapes do. The base model is built on the meta device (no memory
/// for its tensors) when its constructor allows, else on the CPU, and disposed at once.
/// </summary>
internal static class BaseShapes
{
    public static (ModelShape Shape, IReadOnlyDictionary<string, long> FanIns) Read(Func<nn.Module> factory, ModelDeclarations declarations, bool allowWidthOnly)
    {
        var previous = get_default_device();
        nn.Module? model = null;
        try
        {
            set_default_device(device("meta"));
            model = factory();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            set_default_device(previous);
            model = factory();
        }
        finally
        {
            set_default_device(previous);
        }

        using (model)
        {
            var structure = StructureDiscovery.Discover(model, declarations, allowWidthOnly);
            var fanIns = structure.Parameters
                .Where(p => p.FanIn.HasValue)
                .GroupBy(p => p.ShapeKey, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().FanIn!.Value, StringComparer.Ordinal);
            return (new ModelShape(structure.Width, Math.Max(1, structure.Depth)), fanIns);
        }
    }
}
