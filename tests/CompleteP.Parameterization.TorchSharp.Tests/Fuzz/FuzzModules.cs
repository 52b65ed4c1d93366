using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Fuzz;

// The modules of a fuzzed tree. Each registers its children and parameters by the names its spec gives, in the spec's
// order (no RegisterComponents), and calls them with .call or .forward as the spec says.

internal static class Run
{
    public static Tensor Invoke(nn.Module<Tensor, Tensor> module, Tensor x, Invocation how) => how == Invocation.Call ? module.call(x) : module.forward(x);
}

/// <summary>An RMSNorm with a gain (its type name holds "Norm", as discovery reads norms).</summary>
public sealed class FuzzRMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight;

    public FuzzRMSNorm(int width) : base(nameof(FuzzRMSNorm))
    {
        _weight = new Parameter(ones(width, dtype: ScalarType.Float64));
        register_parameter("weight", _weight);
    }

    public override Tensor forward(Tensor x) => x * (x.square().mean([-1], keepdim: true) + 1e-5).rsqrt() * _weight;
}

/// <summary>Causal self-attention with fused or separate q, k, v and an output Linear of any name.</summary>
public class FuzzAttention : nn.Module<Tensor, Tensor>
{
    private readonly Dictionary<string, Linear> _linears = new(StringComparer.Ordinal);
    private readonly BranchSpec _spec;
    private readonly int _width;
    private readonly int _heads;

    public FuzzAttention(BranchSpec spec, int width, int headDim) : base(nameof(FuzzAttention))
    {
        _spec = spec;
        _width = width;
        _heads = width / headDim;
        AttentionScale = 1.0 / Math.Sqrt(headDim);
        foreach (var name in spec.Linears)
        {
            var linear = nn.Linear(width, name == spec.Output || !spec.Fused ? width : 3 * width, hasBias: spec.Bias, dtype: ScalarType.Float64);
            _linears[name] = linear;
            register_module(name, linear);
        }
    }

    public double AttentionScale { get; set; }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        var inputs = _spec.Linears.Where(n => n != _spec.Output).ToList();
        Tensor q, k, v;
        if (_spec.Fused)
        {
            var qkv = Run.Invoke(_linears[inputs[0]], x, _spec.Inner).split(_width, 2);
            (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        }
        else
        {
            (q, k, v) = (Run.Invoke(_linears[inputs[0]], x, _spec.Inner), Run.Invoke(_linears[inputs[1]], x, _spec.Inner), Run.Invoke(_linears[inputs[2]], x, _spec.Inner));
        }

        var y = FuzzReference.Attend(q, k, v, b, t, _heads, _width, AttentionScale);
        return Run.Invoke(_linears[_spec.Output], y, _spec.Inner);
    }
}

/// <summary>An attention whose logit scale the library sets.</summary>
public sealed class FuzzScaledAttention(BranchSpec spec, int width, int headDim) : FuzzAttention(spec, width, headDim), IScaledAttention;

/// <summary>A two-Linear or gated MLP.</summary>
public sealed class FuzzMlp : nn.Module<Tensor, Tensor>
{
    private readonly Dictionary<string, Linear> _linears = new(StringComparer.Ordinal);
    private readonly BranchSpec _spec;

    public FuzzMlp(BranchSpec spec, int width) : base(nameof(FuzzMlp))
    {
        _spec = spec;
        foreach (var name in spec.Linears)
        {
            var linear = name == spec.Output
                ? nn.Linear(spec.Ratio * width, width, hasBias: spec.Bias, dtype: ScalarType.Float64)
                : nn.Linear(width, spec.Ratio * width, hasBias: spec.Bias, dtype: ScalarType.Float64);
            _linears[name] = linear;
            register_module(name, linear);
        }
    }

    public override Tensor forward(Tensor x)
    {
        var inputs = _spec.Linears.Where(n => n != _spec.Output).ToList();
        var h = _spec.Fused
            ? nn.functional.silu(Run.Invoke(_linears[FuzzReference.GateOf(_spec)], x, _spec.Inner)) * Run.Invoke(_linears[FuzzReference.UpOf(_spec)], x, _spec.Inner)
            : nn.functional.gelu(Run.Invoke(_linears[inputs[0]], x, _spec.Inner));
        return Run.Invoke(_linears[_spec.Output], h, _spec.Inner);
    }
}

/// <summary>A pre-LN block: for each branch, <c>h = h + branch(norm(h))</c>.</summary>
public sealed class FuzzBlock : nn.Module<Tensor, Tensor>
{
    private readonly List<(nn.Module<Tensor, Tensor> Norm, nn.Module<Tensor, Tensor> Branch, BranchSpec Spec)> _parts = [];

    public FuzzBlock(TreeSpec spec) : base(nameof(FuzzBlock))
    {
        foreach (var b in spec.Branches)
        {
            nn.Module<Tensor, Tensor> branch = b.IsAttention
                ? b.Scaled ? new FuzzScaledAttention(b, spec.Width, spec.HeadDim) : new FuzzAttention(b, spec.Width, spec.HeadDim)
                : new FuzzMlp(b, spec.Width);
            _parts.Add((FuzzModel.Norm(spec), branch, b));
        }

        if (spec.NormsFirst)
        {
            _parts.ForEach(p => register_module(p.Spec.NormName, p.Norm));
            _parts.ForEach(p => register_module(p.Spec.Name, p.Branch));
        }
        else
        {
            _parts.ForEach(p =>
            {
                register_module(p.Spec.NormName, p.Norm);
                register_module(p.Spec.Name, p.Branch);
            });
        }
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var (norm, branch, spec) in _parts)
        {
            x = x + Run.Invoke(branch, Run.Invoke(norm, x, spec.Invoked), spec.Invoked);
        }

        return x;
    }
}

/// <summary>The root: embeddings, blocks in the spec's container, final norm, readout, and the extras.</summary>
public sealed class FuzzModel : nn.Module<Tensor, Tensor>
{
    private readonly TreeSpec _spec;
    private readonly Embedding _table;
    private readonly nn.Module<Tensor, Tensor>? _position;
    private readonly Parameter? _rawPosition;
    private readonly List<FuzzBlock> _blocks = [];
    private readonly nn.Module? _container;
    private readonly nn.Module<Tensor, Tensor>? _finalNorm;
    private readonly Linear? _head;
    private readonly Parameter? _gain;
    private readonly Tensor? _mixing;

    public FuzzModel(TreeSpec spec) : base(nameof(FuzzModel))
    {
        _spec = spec;
        _table = nn.Embedding(spec.Vocab, spec.Width, dtype: ScalarType.Float64);
        if (spec.Position == 1)
        {
            _position = nn.Embedding(spec.Length, spec.Width, dtype: ScalarType.Float64);
        }
        else if (spec.Position == 2)
        {
            _rawPosition = new Parameter(randn(spec.Length, spec.Width, dtype: ScalarType.Float64) * 0.02);
        }

        for (int i = 0; i < spec.Depth; i++)
        {
            _blocks.Add(new FuzzBlock(spec));
        }

        _container = spec.Container switch
        {
            BlockContainer.ModuleList => new ModuleList<FuzzBlock>([.. _blocks]),
            BlockContainer.Sequential => nn.Sequential(_blocks.Select((b, i) => ((string)i.ToString(System.Globalization.CultureInfo.InvariantCulture), (nn.Module<Tensor, Tensor>)b))),
            BlockContainer.ModuleDict => nn.ModuleDict(_blocks.Select((b, i) => ($"layer_{(char)('a' + i)}", b)).ToArray()),
            BlockContainer.Stages => new ModuleList<ModuleList<FuzzBlock>>(_blocks.Chunk(spec.Depth / spec.Stages).Select(c => new ModuleList<FuzzBlock>(c)).ToArray()),
            _ => null,
        };
        _finalNorm = spec.FinalNorm ? Norm(spec) : null;
        if (spec.Readout != ReadoutKind.Matmul)
        {
            _head = nn.Linear(spec.Width, spec.Vocab, hasBias: spec.ReadoutBias, dtype: ScalarType.Float64);
        }

        if (spec.RootGain)
        {
            _gain = new Parameter(ones(spec.Width, dtype: ScalarType.Float64) + 0.1 * randn(spec.Width, dtype: ScalarType.Float64));
        }

        if (spec.MixingBuffer)
        {
            _mixing = eye(spec.Width, dtype: ScalarType.Float64) + 0.1 * randn(spec.Width, spec.Width, dtype: ScalarType.Float64);
        }

        // Registration, in the spec's order.
        var outer = new List<(string Name, nn.Module Module)> { (spec.TableName, _table) };
        if (_position is not null)
        {
            outer.Add(("wpe", _position));
        }

        void RegisterHead()
        {
            if (_head is not null)
            {
                register_module(spec.ReadoutName, _head);
            }
        }

        if (spec.ReadoutFirst)
        {
            RegisterHead();
        }

        var inner = new List<(string Name, nn.Module Module)>(outer);
        if (_container is not null)
        {
            inner.Add((spec.ContainerName, _container));
        }

        if (_finalNorm is not null)
        {
            inner.Add(("ln_f", _finalNorm));
        }

        if (spec.Wrapper)
        {
            register_module("transformer", nn.ModuleDict(inner.ToArray()));
        }
        else
        {
            inner.ForEach(m => register_module(m.Name, m.Module));
        }

        if (spec.Container == BlockContainer.Siblings)
        {
            for (int i = 0; i < _blocks.Count; i++)
            {
                register_module($"block_{i}", _blocks[i]);
            }
        }

        if (!spec.ReadoutFirst)
        {
            RegisterHead();
        }

        if (_rawPosition is not null)
        {
            register_parameter("pos_emb", _rawPosition);
        }

        if (_gain is not null)
        {
            register_parameter("logit_gain", _gain);
        }

        if (_mixing is not null)
        {
            register_buffer("mixing", _mixing, persistent: true);
        }

        if (spec.MaskBuffer)
        {
            register_buffer("causal_mask", ones(spec.Length, spec.Length, dtype: ScalarType.Float64).tril(), persistent: true);
        }

        // Ties: the head's weight is the table's Parameter (one wrapper), or the table's is the head's.
        if (spec.Readout == ReadoutKind.TiedHeadTakesTable)
        {
            _head!.weight = _table.weight!;
        }
        else if (spec.Readout == ReadoutKind.TiedTableTakesHead)
        {
            _table.weight = _head!.weight!;
        }

        var frozen = spec.Frozen switch
        {
            Frozen.PositionTable => _rawPosition ?? ((Embedding)_position!).weight,
            Frozen.FirstBlockNorm => named_parameters().First(p => p.name.Contains(spec.Branches[0].NormName, StringComparison.Ordinal)).parameter,
            Frozen.ReadoutBias => _head!.bias,
            Frozen.RootGain => _gain,
            _ => null,
        };
        if (frozen is not null)
        {
            frozen.requires_grad = false;
        }
    }

    /// <summary>The logit multiplier the forward applies itself (a matmul head declared with OutputMultiplierAppliedInForward).</summary>
    public double OutputScale { get; set; } = 1.0;

    public static nn.Module<Tensor, Tensor> Norm(TreeSpec spec) => spec.Norm switch
    {
        NormKind.RmsNorm => new FuzzRMSNorm(spec.Width),
        NormKind.LayerNormNoBias => nn.LayerNorm(spec.Width, bias: false, dtype: ScalarType.Float64),
        _ => nn.LayerNorm(spec.Width, dtype: ScalarType.Float64),
    };

    public override Tensor forward(Tensor ids)
    {
        var h = Run.Invoke(_table, ids, _spec.Outer);
        if (_position is not null)
        {
            h = h + Run.Invoke(_position, arange(ids.shape[1], device: ids.device), _spec.Outer);
        }
        else if (_rawPosition is not null)
        {
            h = h + _rawPosition.narrow(0, 0, ids.shape[1]);
        }

        if (_mixing is not null)
        {
            h = h.matmul(_mixing);
        }

        if (_spec.Container == BlockContainer.Sequential)
        {
            h = Run.Invoke((Sequential)_container!, h, _spec.Blocks);
        }
        else
        {
            foreach (var block in _blocks)
            {
                h = Run.Invoke(block, h, _spec.Blocks);
            }
        }

        if (_finalNorm is not null)
        {
            h = Run.Invoke(_finalNorm, h, _spec.Outer);
        }

        if (_gain is not null)
        {
            h = h * _gain;
        }

        return _head is not null ? Run.Invoke(_head, h, _spec.Outer) : OutputScale * h.matmul(_table.weight!.t());
    }
}
