using static TorchSharp.torch;

namespace CompleteP.CoordinateChecks;

/// <summary>
/// Records the size of chosen modules' outputs (or the final norm's input) on every forward pass, through forward
/// hooks: mean |x|, RMS, and the RMS of the change since the pass recorded as step 1. Set <see cref="Step"/> before
/// each pass; dispose to remove the hooks. TorchSharp runs hooks only for <c>module.call(x)</c>:
/// <see cref="Silent"/> lists the modules that never ran through it. Used by <see cref="CoordinateCheck"/>; usable
/// on its own to watch a training run.
/// </summary>
public sealed class ActivationRecorder : IDisposable
{
    private readonly List<Action> _removers = [];
    private readonly Dictionary<string, Tensor> _first = new(StringComparer.Ordinal);
    private readonly List<CoordinateMeasurement> _rows = [];
    private readonly List<string> _names = [];

    /// <summary>Installs recording hooks on the given modules.</summary>
    /// <param name="modules">The modules to record (see <see cref="CoordinateCheck.RecordableModules"/>).</param>
    /// <param name="parameterization">The parameterization's name, written into each measurement.</param>
    /// <param name="width">The model width, written into each measurement.</param>
    /// <param name="depth">The model depth, written into each measurement.</param>
    /// <param name="seed">The seed, written into each measurement.</param>
    public ActivationRecorder(IEnumerable<RecordableModule> modules, string parameterization, int width, int depth, int seed)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(parameterization);
        foreach (var m in modules)
        {
            _names.Add(m.Name);
            if (m.RecordsInput)
            {
                var handle = m.Module.register_forward_pre_hook((_, input) =>
                {
                    Record(m, input, parameterization, width, depth, seed);
                    return input;
                });
                _removers.Add(handle.remove);
            }
            else
            {
                var handle = m.Module.register_forward_hook((_, _, output) =>
                {
                    Record(m, output, parameterization, width, depth, seed);
                    return output;
                });
                _removers.Add(handle.remove);
            }
        }
    }

    /// <summary>The step the next forward pass belongs to; 0 records nothing. Step 1's outputs are the reference for <c>deltaRms</c>.</summary>
    public int Step { get; set; }

    /// <summary>What was recorded so far.</summary>
    public IReadOnlyList<CoordinateMeasurement> Measurements => _rows;

    /// <summary>The recorded modules that produced no measurement so far (invoked through <c>.forward</c>, or not at all).</summary>
    public IReadOnlyList<string> Silent => _names.Where(n => _rows.All(r => r.Module != n)).ToList();

    private void Record(RecordableModule m, Tensor output, string parameterization, int width, int depth, int seed)
    {
        if (Step <= 0)
        {
            return;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var o = output.detach();
        double meanAbs = o.abs().mean().item<float>();
        double rms = o.square().mean().sqrt().item<float>();
        double delta = 0;
        if (Step == 1)
        {
            if (_first.Remove(m.Name, out var old))
            {
                old.Dispose();
            }

            _first[m.Name] = o.clone().MoveToOuterDisposeScope().DetachFromDisposeScope();
        }
        else if (_first.TryGetValue(m.Name, out var initial) && initial.shape.SequenceEqual(o.shape))
        {
            delta = (o - initial).square().mean().sqrt().item<float>();
        }

        _rows.Add(new CoordinateMeasurement(parameterization, width, depth, seed, Step, m.Name, meanAbs, rms, delta, m.Kind, m.BlockIndex));
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
