using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// Finds which parameter objects are the same tensor. TorchSharp can hand out two wrappers (different
/// objects, different handles) of one storage: tying <c>lm_head.weight = wte.weight</c> does, while the
/// other direction gives one object. Objects with the same handle are the same tensor. Among the rest,
/// tensors of equal shape, dtype and device are probed in one pass: each gets a distinct marker written
/// into its first element, then every first element is read back (a tensor that reads another's
/// marker shares its storage), then the original values are restored. Meta tensors hold no values
/// and are told apart by handle only.
/// </summary>
internal static class TensorIdentity
{
    /// <summary>For each tensor, the index of the first tensor in the list that is the same tensor (itself if none).</summary>
    public static int[] Canonical(IReadOnlyList<Tensor> tensors)
    {
        var canonical = new int[tensors.Count];
        var byHandle = new Dictionary<IntPtr, int>();
        var distinct = new List<int>();
        for (int i = 0; i < tensors.Count; i++)
        {
            if (byHandle.TryGetValue(tensors[i].Handle, out int first))
            {
                canonical[i] = first;
            }
            else
            {
                byHandle[tensors[i].Handle] = i;
                canonical[i] = i;
                distinct.Add(i);
            }
        }

        var groups = distinct
            .Where(i => tensors[i].device_type != DeviceType.META && tensors[i].numel() > 0)
            .GroupBy(i => (Shape: Listing.Shape(tensors[i].shape), tensors[i].dtype, tensors[i].device_type, tensors[i].device_index))
            .Where(g => g.Count() > 1);
        using var noGrad = no_grad();
        foreach (var group in groups)
        {
            // Markers 1..n are exact in every floating type for n <= 256 (bfloat16 has 8 significant bits).
            foreach (var chunk in group.Chunk(256))
            {
                Probe(tensors, chunk, canonical);
            }
        }

        // Resolve chains so that every entry points at the first of its class.
        for (int i = 0; i < canonical.Length; i++)
        {
            canonical[i] = canonical[canonical[i]];
        }

        return canonical;
    }

    private static void Probe(IReadOnlyList<Tensor> tensors, int[] chunk, int[] canonical)
    {
        using var scope = NewDisposeScope();
        var firsts = chunk.Select(i => tensors[i].view(-1)[0]).ToList();
        var originals = firsts.Select(f => f.clone()).ToList();
        List<int> read;
        int written = 0;
        try
        {
            for (; written < chunk.Length; written++)
            {
                firsts[written].fill_(written + 1.0);
            }

            read = firsts.Select(f => (int)Math.Round(f.to(ScalarType.Float64).item<double>()) - 1).ToList();
        }
        catch
        {
            // The weights get their values back whatever happened: every marker written, and the one whose write
            // failed (libtorch checks some in-place rules after the kernel ran), each on its own so that one refusal
            // does not keep the others from their values; the first failure is the one reported.
            Restore(firsts, originals, Math.Min(written + 1, chunk.Length), throwing: false);
            throw;
        }

        Restore(firsts, originals, chunk.Length, throwing: true);

        // Tensors that read back the same marker share one storage: the last marker written into it.
        foreach (var shared in Enumerable.Range(0, chunk.Length).GroupBy(k => read[k]).Where(g => g.Count() > 1))
        {
            int first = shared.Min(k => chunk[k]);
            foreach (int k in shared)
            {
                canonical[chunk[k]] = first;
            }
        }
    }

    /// <summary>Writes the original first elements of the first <paramref name="count"/> tensors back; with <paramref name="throwing"/> false, a refused write does not stop the others.</summary>
    private static void Restore(List<Tensor> firsts, List<Tensor> originals, int count, bool throwing)
    {
        for (int k = count - 1; k >= 0; k--)
        {
            try
            {
                firsts[k].copy_(originals[k]);
            }
            catch (System.Runtime.InteropServices.ExternalException) when (!throwing)
            {
                // Reported by the caller's own failure.
            }
        }
    }
}
