using CompleteP.Discovery;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Puts each tensor's values where the plan says: a trainable tensor is drawn from its applied init (Table 1's,
/// times a folded multiplier <c>c</c>), in plan order, so that a seed or generator reproduces it; a tensor that is
/// not re-initialized (frozen, or <see cref="ParameterizeOptions.Initialize"/> off) keeps its values, times <c>c</c>
/// where a multiplier is folded into it, so that the forward pass is the same as with the multiplier.
/// </summary>
internal static class Initialization
{
    public static void Apply(IReadOnlyList<DiscoveredParameter> parameters, ParameterizationPlan plan, Generator? generator, bool initialize,
        IReadOnlyDictionary<string, long[]>? paddingRows = null)
    {
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            var row = plan[p.Name];
            if (!initialize || !p.Trainable)
            {
                if (row.Folded is { } c)
                {
                    using var factor = c.Value.Value.ToScalar(); // held across the native call
                    p.Tensor.mul_(factor);
                }

                continue;
            }

            Draw(p.Tensor, row.Applied, generator);
            if (paddingRows is not null && paddingRows.TryGetValue(p.Name, out var rows))
            {
                p.Tensor.index_fill_(0, tensor(rows, device: p.Tensor.device), 0.0);
            }
        }
    }

    /// <summary>
    /// Fills one tensor (under <c>no_grad</c>) with its rule's init: the constant, or normal values of its std drawn from
    /// <paramref name="generator"/> (the default generator if null).
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="rule">Its applied rule.</param>
    /// <param name="generator">Where the values come from.</param>
    public static void Draw(Tensor tensor, TensorRule rule, Generator? generator)
    {
        double value = rule.InitValue;
        if (rule.InitKind == InitKind.Constant || value == 0)
        {
            tensor.fill_(rule.InitKind == InitKind.Constant ? value : 0.0);
        }
        else if (generator is null || tensor.device_type == DeviceType.CPU)
        {
            // nn.init.normal_ ignores its generator argument in TorchSharp 0.107.0; Tensor.normal_ honours it.
            tensor.normal_(0.0, value, generator);
        }
        else
        {
            // TorchSharp 0.107.0 creates CPU generators only (the device of new Generator(seed, device) is not passed to
            // libtorch), and libtorch refuses a CPU generator for a CUDA tensor: draw on the CPU and copy, so a seed
            // gives the same values on every device.
            using var drawn = empty(tensor.shape, dtype: tensor.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
            drawn.normal_(0.0, value, generator);
            tensor.copy_(drawn);
        }
    }

    /// <summary>
    /// The rows of each embedding table that are exactly zero before the re-initialization: TorchSharp's Embedding
    /// zeroes its <c>padding_idx</c> row (and never updates it), which it does not expose; a re-initialization keeps them zero.
    /// </summary>
    /// <param name="structure">The discovered structure.</param>
    /// <returns>The zero rows by parameter name; tables without any are left out.</returns>
    public static Dictionary<string, long[]> PaddingRows(ModelStructure structure)
    {
        var rows = new Dictionary<string, long[]>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var p in structure.Parameters.Where(p => p.IsInput && p.Trainable && p.Tensor.dim() == 2 && p.Tensor.shape[0] > 1
                                                         && p.Tensor.device_type != DeviceType.META // no values to read
                                                         && structure.Tree.Find(p.ModuleName)?.Module is TorchSharp.Modules.Embedding))
        {
            using var scope = NewDisposeScope();
            var zero = p.Tensor.eq(0).all(1).nonzero().flatten();
            long count = zero.shape[0];
            if (count > 0 && count < p.Tensor.shape[0])
            {
                rows[p.Name] = zero.data<long>().ToArray();
            }
        }

        return rows;
    }
}
