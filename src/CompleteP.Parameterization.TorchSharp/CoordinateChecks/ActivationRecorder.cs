using static TorchSharp.torch;

namespace CompleteP.CoordinateChecks;

/// <summary>
/// Records the size of chosen modules' outputs on every forward pass, through forward hooks: mean
/// |x|, RMS, and the RMS of the change since the pass recorded as step 1. Set <see cref="Step"/>
/// before each pass; dispose to remove the hooks. Used by <see cref="CoordinateCheck"/>; usable on
/// its own to watch a training run.
/// </summary>
public sealed class ActivationRecorder : IDisposable
{
    private readonly List<Action> _removers = [];
    private readonly Dictionary<string, Tensor> _first = new(StringComparer.Ordinal);
    private readonly List<CoordinateMeasurement> _rows = [];

    /// <summary>Installs recording hooks on the given modules.</summary>
    /// <param name="modules">(name, module, kind, block index) of each module to record.</param>
    /// <param name="parameterization">The parameterization's name, written into each measurement.</param>
    /// <param name="width">The model width, written into each measurement.</param>
    /// <param name="depth">The model depth, written into each measurement.</param>
    /// <param name="seed">The seed, written into each measurement.</param>
    public ActivationRecorder(IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module, string Kind, int BlockIndex)> modules,
        string parameterization, int width, int depth, int seed)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(parameterization);
        foreach (var (name, module, kind, blockIndex) in modules)
        {
            var handle = module.register_forward_hook((_, _, output) =>
            {
                if (Step > 0)
                {
                    Record(name, kind, blockIndex, output, parameterization, width, depth, seed);
                }

                return output;
            });
            _removers.Add(handle.remove);
        }
    }

    /// <summary>The step the next forward pass belongs to; 0 records nothing. Step 1's outputs are the reference for <c>deltaRms</c>.</summary>
    public int Step { get; set; }

    /// <summary>What was recorded so far.</summary>
    public IReadOnlyList<CoordinateMeasurement> Measurements => _rows;

    private void Record(string name, string kind, int blockIndex, Tensor output, string parameterization, int width, int depth, int seed)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var o = output.detach();
        double meanAbs = o.abs().mean().item<float>();
        double rms = o.square().mean().sqrt().item<float>();
        double delta = 0;
        if (Step == 1)
        {
            if (_first.Remove(name, out var old))
            {
                old.Dispose();
            }

            _first[name] = o.clone().MoveToOuterDisposeScope().DetachFromDisposeScope();
        }
        else if (_first.TryGetValue(name, out var initial) && initial.shape.SequenceEqual(o.shape))
        {
            delta = (o - initial).square().mean().sqrt().item<float>();
        }

        _rows.Add(new CoordinateMeasurement(parameterization, width, depth, seed, Step, name, meanAbs, rms, delta, kind, blockIndex));
    }

    /// <summary>Removes the hooks and frees the step-1 outputs.</summary>
    public void Dispose()
    {
        _removers.ForEach(r => r());
        _removers.Clear();
        foreach (var t in _first.Values)
        {
            t.Dispose();
        }

        _first.Clear();
    }
}
