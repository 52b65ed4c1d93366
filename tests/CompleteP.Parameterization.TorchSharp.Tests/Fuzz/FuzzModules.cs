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
    private readonly nn.Module<Tensor, Tensor>? _qNorm;
    private readonly nn.Module<Tensor, Tensor>? _kNorm;

    public FuzzAttention(BranchSpec spec, int width, int headDim, NormKind norm) : base(nameof(FuzzAttention))
    {
        _spec = spec;
        _width = width;
        _heads = width / headDim;
        AttentionScale = 1.0 / Math.Sqrt(headDim);
        var children = new Dictionary<string, nn.Module>(StringComparer.Ordinal);
        foreach (var name in spec.Linears)
        {
            var linear = nn.Linear(width, name == spec.Output || !spec.Fused ? width : 3 * width, hasBias: spec.Bias, dtype: ScalarType.Float64);
            _linears[name] = linear;
            children[name] = linear;
        }

        if (spec.QkNorm != QkNormKind.None)
        {
            int size = spec.QkNorm == QkNormKind.PerHead ? headDim : width;
            children["q_norm"] = _qNorm = FuzzModel.Norm(norm, size);
            children["k_norm"] = _kNorm = FuzzModel.Norm(norm, size);
        }

        foreach (var name in spec.Order ?? spec.Children)
        {
            register_module(name, children[name]);
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

        if (_qNorm is not null)
        {
            // Per head (over d_head) or over the whole width before the heads are split.
            long size = _spec.QkNorm == QkNormKind.PerHead ? _width / _heads : _width;
            q = Run.Invoke(_qNorm, q.view(b, t, -1, size), _spec.Inner).view(b, t, _width);
            k = Run.Invoke(_kNorm!, k.view(b, t, -1, size), _spec.Inner).view(b, t, _width);
        }

        var y = FuzzReference.Attend(q, k, v, b, t, _heads, _width, AttentionScale);
        return Run.Invoke(_linears[_spec.Output], y, _spec.Inner);
    }
}

/// <summary>An attention whose logit scale the library sets.</summary>
public sealed class FuzzScaledAttention(BranchSpec spec, int width, int headDim, NormKind norm) : FuzzAttention(spec, width, headDim, norm), IScaledAttention;

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
            _linears[name] = name == spec.Output
                ? nn.Linear(spec.Ratio * width, width, hasBias: spec.Bias, dtype: ScalarType.Float64)
                : nn.Linear(width, spec.Ratio * width, hasBias: spec.Bias, dtype: ScalarType.Float64);
        }

        // An expert registers its Linears in the spec's order (the MoE's Order is of gate and experts).
        foreach (var name in spec.IsMoe ? spec.Linears : spec.Order ?? spec.Linears)
        {
            register_module(name, _linears[name]);
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

/// <summary>A mixture of experts: router 'gate' (width -> experts, no bias), 'experts' (gated MLPs), each token's top-2 experts weighted by a softmax over their logits.</summary>
public sealed class FuzzMoe : nn.Module<Tensor, Tensor>
{
    private readonly Linear _gate;
    private readonly ModuleList<FuzzMlp> _experts;
    private readonly FuzzMlp? _shared;
    private readonly BranchSpec _spec;

    public FuzzMoe(BranchSpec spec, int width) : base(nameof(FuzzMoe))
    {
        _spec = spec;
        _gate = nn.Linear(width, spec.Experts, hasBias: false, dtype: ScalarType.Float64);
        _experts = new ModuleList<FuzzMlp>(Enumerable.Range(0, spec.Experts).Select(_ => new FuzzMlp(spec, width)).ToArray());
        var children = new Dictionary<string, nn.Module>(StringComparer.Ordinal) { ["gate"] = _gate, ["experts"] = _experts };
        if (spec.SharedExpert)
        {
            children["shared_expert"] = _shared = new FuzzMlp(spec, width);
        }

        foreach (var name in spec.Order ?? spec.Children)
        {
            register_module(name, children[name]);
        }
    }

    public override Tensor forward(Tensor x)
    {
        var y = FuzzReference.Route(Run.Invoke(_gate, x, _spec.Inner), _experts.Select(e => Run.Invoke(e, x, _spec.Inner)).ToArray());
        return _shared is null ? y : y + Run.Invoke(_shared, x, _spec.Inner);
    }
}

/// <summary>A block of the spec's style: pre-norm (<c>h = h + F(norm(h))</c> for each branch), norms on the branch outputs, sandwich, or parallel.</summary>
public sealed class FuzzBlock : nn.Module<Tensor, Tensor>
{
    private readonly List<(nn.Module<Tensor, Tensor>? Norm, nn.Module<Tensor, Tensor> Branch, nn.Module<Tensor, Tensor>? Post, BranchSpec Spec)> _parts = [];
    private readonly bool _parallel;

    public FuzzBlock(TreeSpec spec) : base(nameof(FuzzBlock))
    {
        _parallel = spec.Style == BlockStyle.Parallel;
        var children = new Dictionary<string, nn.Module>(StringComparer.Ordinal);
        foreach (var b in spec.Branches)
        {
            nn.Module<Tensor, Tensor> branch = b.IsAttention
                ? b.Scaled ? new FuzzScaledAttention(b, spec.Width, spec.HeadDim, spec.Norm) : new FuzzAttention(b, spec.Width, spec.HeadDim, spec.Norm)
                : b.IsMoe ? new FuzzMoe(b, spec.Width) : new FuzzMlp(b, spec.Width);

            // A parallel block's branches read one norm.
            var norm = !b.HasPreNorm ? null : children.TryGetValue(b.NormName, out var shared) ? (nn.Module<Tensor, Tensor>)shared : FuzzModel.Norm(spec);
            var post = b.PostNormName is null ? null : FuzzModel.Norm(spec);
            _parts.Add((norm, branch, post, b));
            if (norm is not null)
            {
                children[b.NormName] = norm;
            }

            children[b.Name] = branch;
            if (post is not null)
            {
                children[b.PostNormName!] = post;
            }
        }

        if (spec.BlockOrder is { } order)
        {
            foreach (var name in order)
            {
                register_module(name, children[name]);
            }
        }
        else if (spec.NormsFirst)
        {
            spec.BlockNorms.ToList().ForEach(n => register_module(n, children[n]));
            spec.Branches.ToList().ForEach(b => register_module(b.Name, children[b.Name]));
        }
        else
        {
            spec.BlockChildren.ToList().ForEach(n => register_module(n, children[n]));
        }
    }

    public override Tensor forward(Tensor x)
    {
        var h = x;
        foreach (var (norm, branch, post, spec) in _parts)
        {
            var input = norm is null ? (_parallel ? x : h) : Run.Invoke(norm, _parallel ? x : h, spec.Invoked);
            var y = Run.Invoke(branch, input, spec.Invoked);
            h = h + (post is null ? y : Run.Invoke(post, y, spec.Invoked));
        }

        return h;
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
            Frozen.FirstBlockNorm => named_parameters().First(p => p.name.Contains("." + spec.BlockNorms[0] + ".", StringComparison.Ordinal)).parameter,
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

    public static nn.Module<Tensor, Tensor> Norm(TreeSpec spec) => Norm(spec.Norm, spec.Width);

    public static nn.Module<Tensor, Tensor> Norm(NormKind kind, int size) => kind switch
    {
        NormKind.RmsNorm => new FuzzRMSNorm(size),
        NormKind.LayerNormNoBias => nn.LayerNorm(size, bias: false, dtype: ScalarType.Float64),
        _ => nn.LayerNorm(size, dtype: ScalarType.Float64),
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
