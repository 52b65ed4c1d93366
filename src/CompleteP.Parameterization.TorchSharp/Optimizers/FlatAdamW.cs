using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Optimizers;

/// <summary>
/// TorchSharp's AdamW with a step whose cost does not grow with the number of tensors: each parameter group's
/// parameters (and its first and second moments) become views of one flat buffer, and the update of a group is a
/// handful of kernels on those buffers, where TorchSharp's AdamW launches about ten per tensor. It computes the
/// same update as <see cref="AdamW"/> (decoupled weight decay <c>lr * weight_decay</c>, bias corrections, AMSGrad,
/// maximize), reads every group's learning rate at every step (so LR schedulers and
/// <see cref="GroupLearningRates"/> work), saves and loads its state in AdamW's per-parameter format, and can clip
/// the gradients' global norm, fold-aware, in a few kernels (<see cref="SetGradientClipping(double, nn.Module, ParameterizationPlan)"/>).
/// </summary>
/// <remarks>
/// <para>
/// Use it where the optimizer step matters: on a GPU, with many tensors (deep models: a 32-block GPT has about 400),
/// where TorchSharp's AdamW is launch-bound (measured on an H200 at width 128, depth 32: see
/// <c>docs/gpu-training.md</c>). On a CPU it gives the same numbers at about the same speed.
/// </para>
/// <para>
/// It is an <see cref="AdamW"/>, so it is the one-line change: build it where you built <c>torch.optim.AdamW</c>
/// (same arguments and defaults as that factory), and hand it to <see cref="Parameterize.Apply"/>, which regroups it
/// like any AdamW. The flat buffers are made at the first <see cref="step"/> (or <see cref="state_dict"/>) after the
/// groups last changed, by copying each parameter's values into its group's buffer and pointing the parameter at its
/// slice (<c>Tensor.set_</c>); the moments a parameter already has move with it.
/// </para>
/// <para>
/// Rules that come with the views: move the model to its device before the first step (moving it afterwards
/// replaces the parameters), keep every parameter of a group on one device and of one floating type, and do not let
/// a parameter share its storage with a tensor outside the optimizer (a tie made by assigning one
/// <see cref="Parameter"/> object to two modules, as nanoGPT ties its LM head, is fine).
/// <see cref="zero_grad"/> sets the gradients to null, as PyTorch's <c>set_to_none</c>, so that backward hands its
/// gradients over instead of adding them into zeros. With gradient clipping set, the clipped gradients are the flat
/// copies the update uses; the parameters' own <c>grad</c> tensors keep the unclipped values.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var optimizer = new FlatAdamW(model.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.99, weight_decay: 0.1);
/// var plan = Parameterize.Apply(model, optimizer, options);
/// optimizer.SetGradientClipping(1.0, model, plan);
/// for (...) { optimizer.zero_grad(); model.Loss(x, y).backward(); optimizer.step(); }
/// </code>
/// </example>
public sealed class FlatAdamW : AdamW
{
    private readonly List<FlatGroup> _flat = [];
    private GradientClipping? _clipping;
    private Tensor? _lastGradientNorm;
    private bool _layoutStale = true;

    /// <summary>Creates the optimizer over one group of parameters (the arguments and defaults of <c>torch.optim.AdamW</c>).</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weight_decay">Coupled weight decay: each step multiplies the weights by <c>1 - lr * weight_decay</c>.</param>
    /// <param name="amsgrad">Whether to use the AMSGrad variant.</param>
    /// <param name="maximize">Whether to maximize the objective.</param>
    public FlatAdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.99, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <summary>Creates the optimizer over parameter groups; options a group leaves unset come from the arguments.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">Default learning rate.</param>
    /// <param name="beta1">Default decay of the first moment.</param>
    /// <param name="beta2">Default decay of the second moment.</param>
    /// <param name="eps">Default epsilon.</param>
    /// <param name="weight_decay">Default coupled weight decay.</param>
    /// <param name="amsgrad">Default AMSGrad switch.</param>
    /// <param name="maximize">Default maximize switch.</param>
    public FlatAdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.99, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <summary>
    /// The global gradient norm (fold-aware, before clipping) that the last <see cref="step"/> measured, as a 0-dim
    /// tensor on the parameters' device; null until a step has run with clipping set. Reading it waits for the device,
    /// so read it when you log. The optimizer owns it: it is replaced at the next step.
    /// </summary>
    public Tensor? LastGradientNorm => _lastGradientNorm;

    /// <summary>
    /// From the next step on, clips the gradients to the global 2-norm <paramref name="maxNorm"/> of the unfolded model
    /// before each update, as <see cref="ParameterizedGradients.ClipGradNorm"/> does, in a few kernels per group.
    /// </summary>
    /// <param name="maxNorm">The largest global norm; finite and greater than 0.</param>
    /// <param name="model">The model the parameters belong to (their names find their plan rows).</param>
    /// <param name="plan">The plan <see cref="Parameterize.Apply"/> returned for the model.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">A parameter of the model has no row in the plan.</exception>
    public void SetGradientClipping(double maxNorm, nn.Module model, ParameterizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        GradientNorms.CheckMaxNorm(maxNorm, nameof(maxNorm));
        _clipping = new GradientClipping(maxNorm, FoldedGradientScales.ByHandle(model, plan));
        InvalidateLayout();
    }

    /// <summary>
    /// From the next step on, clips the gradients to the global 2-norm <paramref name="maxNorm"/> before each update,
    /// as <c>torch.nn.utils.clip_grad_norm_</c> does (for a model with no folded multipliers).
    /// </summary>
    /// <param name="maxNorm">The largest global norm; finite and greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    public void SetGradientClipping(double maxNorm)
    {
        GradientNorms.CheckMaxNorm(maxNorm, nameof(maxNorm));
        _clipping = new GradientClipping(maxNorm, null);
        InvalidateLayout();
    }

    /// <summary>Stops clipping the gradients.</summary>
    public void ClearGradientClipping()
    {
        _clipping = null;
        InvalidateLayout();
    }

    /// <inheritdoc />
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        ArgumentNullException.ThrowIfNull(param_group);
        var defaults = (Options)_defaults;
        param_group.Options ??= new Options();
        if (param_group.Options is not Options options)
        {
            throw new ArgumentException($"param_group.Options must be AdamW.Options, but was {param_group.Options.GetType().Name}.", nameof(param_group));
        }

        options.LearningRate ??= defaults.LearningRate;
        options.beta1 ??= defaults.beta1;
        options.beta2 ??= defaults.beta2;
        options.eps ??= defaults.eps;
        options.weight_decay ??= defaults.weight_decay;
        options.amsgrad ??= defaults.amsgrad;
        options.maximize ??= defaults.maximize;
        options.InitialLearningRate = options.LearningRate!.Value;
        param_group.Parameters = param_group.Parameters?.ToList() ?? [];
        _parameter_groups.Add(param_group);
        InvalidateLayout();
    }

    /// <summary>Sets every parameter's gradient to null (PyTorch's <c>zero_grad(set_to_none=True)</c>).</summary>
    public override void zero_grad()
    {
        foreach (var group in _parameter_groups)
        {
            foreach (var parameter in group.Parameters)
            {
                parameter.grad = null;
            }
        }
    }

    /// <summary>One AdamW step over every group (clipping the gradients first when <see cref="SetGradientClipping(double)"/> was called).</summary>
    /// <param name="closure">Re-evaluates the model and returns the loss; optional.</param>
    /// <returns>The closure's loss, or null.</returns>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using var enable = enable_grad();
            loss = closure();
        }

        EnsureLayout();
        using (no_grad())
        using (NewDisposeScope())
        {
            var gradients = _flat.Select(FlatGradient).ToArray();
            if (_clipping is { } clipping)
            {
                Clip(clipping, gradients);
            }

            for (int i = 0; i < _flat.Count; i++)
            {
                if (gradients[i] is { } g)
                {
                    UpdateFlat(_flat[i], g);
                }
                else
                {
                    UpdateEach(_flat[i]);
                }
            }
        }

        return loss!;
    }

    /// <inheritdoc />
    public override StateDictionary state_dict()
    {
        EnsureLayout();
        return base.state_dict();
    }

    /// <summary>Loads optimizer state by copying its values into this optimizer's flat buffers.</summary>
    /// <param name="state_dict">A state from <see cref="state_dict"/> of an optimizer with the same groups.</param>
    /// <exception cref="ArgumentException">The state has other numbers of groups or parameters.</exception>
    public override void load_state_dict(StateDictionary state_dict)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        var own = this.state_dict();
        if (state_dict.Options.Count != own.Options.Count || state_dict.State.Count != own.State.Count)
        {
            throw new ArgumentException(
                $"state_dict has {state_dict.Options.Count} groups and {state_dict.State.Count} parameter states; this optimizer has {own.Options.Count} and {own.State.Count}.",
                nameof(state_dict));
        }

        for (int i = 0; i < own.Options.Count; i++)
        {
            if (!ReferenceEquals(own.Options[i], state_dict.Options[i]))
            {
                own.Options[i].LoadStateDict(state_dict.Options[i]);
            }
        }

        using var noGrad = no_grad();
        for (int i = 0; i < own.State.Count; i++)
        {
            var target = (State)own.State[i];
            var source = (State)state_dict.State[i];
            if (ReferenceEquals(target, source))
            {
                continue;
            }

            target.step = source.step;
            target.exp_avg.copy_(source.exp_avg);
            target.exp_avg_sq.copy_(source.exp_avg_sq);
            if (target.max_exp_avg_sq is not null && source.max_exp_avg_sq is not null)
            {
                target.max_exp_avg_sq.copy_(source.max_exp_avg_sq);
            }
        }

        InvalidateLayout();
    }

    /// <summary>The flat parameter buffer of each group, in group order (for tests).</summary>
    internal IReadOnlyList<Tensor> FlatParameters
    {
        get
        {
            EnsureLayout();
            return _flat.Select(f => f.Values).ToList();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var group in _flat)
            {
                group.Dispose();
            }

            _flat.Clear();
            _lastGradientNorm?.Dispose();
            _lastGradientNorm = null;
        }

        base.Dispose(disposing);
    }

    private void InvalidateLayout() => _layoutStale = true;

    /// <summary>Rebuilds the flat buffers when the groups, their parameters, AMSGrad or the clipping changed.</summary>
    private void EnsureLayout()
    {
        bool current = !_layoutStale && _flat.Count == _parameter_groups.Count;
        for (int i = 0; current && i < _flat.Count; i++)
        {
            var group = _parameter_groups[i];
            current = ReferenceEquals(_flat[i].Group, group) && ReferenceEquals(_flat[i].ParameterList, group.Parameters)
                && ((Options)group.Options).amsgrad == (_flat[i].MaxExpAvgSq is not null);
        }

        if (!current)
        {
            Relayout();
        }
    }

    private void Relayout()
    {
        using var noGrad = no_grad();
        var seen = new HashSet<IntPtr>();
        var built = new List<FlatGroup>();
        for (int gi = 0; gi < _parameter_groups.Count; gi++)
        {
            var group = _parameter_groups[gi];
            if (group.Options is not Options options)
            {
                throw new InvalidOperationException($"group {gi} has {group.Options?.GetType().Name ?? "no"} options; FlatAdamW groups need AdamW.Options.");
            }

            if (group.Parameters is not List<Parameter> list)
            {
                list = group.Parameters.ToList();
                group.Parameters = list;
            }

            foreach (var p in list)
            {
                if (!seen.Add(p.Handle))
                {
                    throw new InvalidOperationException(
                        $"the parameter [{Listing.Shape(p.shape)}] is in two parameter groups (or twice in group {gi}): it would be updated twice per step.");
                }
            }

            built.Add(FlatGroup.Build(group, list, options.amsgrad!.Value, gi, _state, _clipping));
        }

        foreach (var old in _flat)
        {
            old.Dispose();
        }

        _flat.Clear();
        _flat.AddRange(built);
        _layoutStale = false;
    }

    /// <summary>The group's gradients as one flat tensor, or null when some parameter has none (that group then takes the per-tensor path).</summary>
    private Tensor? FlatGradient(FlatGroup group)
    {
        if (group.Parameters.Length == 0)
        {
            return null;
        }

        var grads = new Tensor[group.Parameters.Length];
        for (int i = 0; i < grads.Length; i++)
        {
            var g = group.Parameters[i].grad;
            if (g is null)
            {
                return null;
            }

            grads[i] = g.reshape(-1);
        }

        long step = group.States[0].step;
        if (group.States.Any(s => s.step != step))
        {
            return null;
        }

        var flat = grads.Length == 1 ? grads[0].clone() : cat(grads, 0);
        return ((Options)group.Group.Options).maximize!.Value ? flat.neg_() : flat;
    }

    private void Clip(GradientClipping clipping, Tensor?[] gradients)
    {
        var parts = new List<(Tensor Gradient, double Scale)>();
        var perTensor = new List<Tensor>();
        for (int i = 0; i < _flat.Count; i++)
        {
            var group = _flat[i];
            if (gradients[i] is { } flat)
            {
                foreach (var (offset, length, scale) in group.Runs)
                {
                    parts.Add((flat.narrow(0, offset, length), scale));
                }
            }
            else
            {
                for (int k = 0; k < group.Parameters.Length; k++)
                {
                    if (group.Parameters[k].grad is { } g)
                    {
                        parts.Add((g, group.Scales[k]));
                        perTensor.Add(g);
                    }
                }
            }
        }

        if (parts.Count == 0)
        {
            return;
        }

        var total = GradientNorms.Total(parts, concatenate: false);
        var coefficient = GradientNorms.ClipCoefficient(total, clipping.MaxNorm);
        foreach (var g in gradients)
        {
            g?.mul_(coefficient);
        }

        foreach (var g in perTensor)
        {
            g.mul_(coefficient);
        }

        _lastGradientNorm?.Dispose();
        _lastGradientNorm = total.DetachFromDisposeScope();
    }

    /// <summary>The update of one group on its flat buffers: one AdamW step for all its parameters at once.</summary>
    private static void UpdateFlat(FlatGroup group, Tensor gradient)
    {
        foreach (var state in group.States)
        {
            state.step += 1;
        }

        AdamWStep((Options)group.Group.Options, group.States[0].step, group.Values, gradient, group.ExpAvg, group.ExpAvgSq, group.MaxExpAvgSq);
    }

    /// <summary>The per-tensor update (views of the flat buffers), for a group where some parameter has no gradient or the steps differ.</summary>
    private static void UpdateEach(FlatGroup group)
    {
        var o = (Options)group.Group.Options;
        for (int i = 0; i < group.Parameters.Length; i++)
        {
            var parameter = group.Parameters[i];
            var gradient = parameter.grad;
            if (gradient is null)
            {
                continue;
            }

            if (o.maximize!.Value)
            {
                gradient = gradient.neg();
            }

            var state = group.States[i];
            state.step += 1;
            AdamWStep(o, state.step, parameter, gradient, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq);
        }
    }

    /// <summary>
    /// TorchSharp's AdamW arithmetic, in the same order, on one tensor and its moments: a group's flat buffers
    /// (<see cref="UpdateFlat"/>) or one parameter's views of them (<see cref="UpdateEach"/>).
    /// </summary>
    private static void AdamWStep(Options o, long step, Tensor values, Tensor gradient, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq)
    {
        double lr = o.LearningRate!.Value, beta1 = o.beta1!.Value, beta2 = o.beta2!.Value, eps = o.eps!.Value, decay = o.weight_decay!.Value;
        // Each number goes to TorchSharp as a Scalar held (and disposed) here: one converted implicitly is freed only by the
        // finalizer, which can run while the native call still reads it (TorchSharp passes its handle without keeping it alive).
        if (lr * decay != 0)
        {
            using var keep = (1 - lr * decay).ToScalar();
            values.mul_(keep);
        }

        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB2 = (1 - beta2).ToScalar();
        expAvg.mul_(b1).add_(gradient, alpha: oneMinusB1);
        expAvgSq.mul_(b2).addcmul_(gradient, gradient, value: oneMinusB2);
        Tensor second = expAvgSq;
        if (maxExpAvgSq is { } max)
        {
            max.copy_(maximum(max, expAvgSq));
            second = max;
        }

        using var correction2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var epsilon = eps.ToScalar();
        using var stepSize = (-(lr / biasCorrection1)).ToScalar();
        var denominator = second.sqrt().div_(correction2).add_(epsilon);
        values.addcdiv_(expAvg, denominator, value: stepSize);
    }

    /// <summary>What clipping needs: the largest norm and, for fold-aware clipping, each parameter's factor by handle.</summary>
    private sealed record GradientClipping(double MaxNorm, IReadOnlyDictionary<IntPtr, double>? ScaleByHandle);

    /// <summary>One group's flat buffers, its parameters' slices and per-parameter state (views of the moment buffers).</summary>
    private sealed class FlatGroup : IDisposable
    {
        private FlatGroup(TorchSharp.Modules.ParamGroup group, List<Parameter> list, Tensor values, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq,
            State[] states, double[] scales)
        {
            Group = group;
            ParameterList = list;
            Parameters = list.ToArray();
            Values = values;
            ExpAvg = expAvg;
            ExpAvgSq = expAvgSq;
            MaxExpAvgSq = maxExpAvgSq;
            States = states;
            Scales = scales;
            var runs = new List<(long, long, double)>();
            long offset = 0;
            for (int i = 0; i < Parameters.Length; i++)
            {
                long n = Parameters[i].numel();
                if (runs.Count > 0 && runs[^1].Item3 == scales[i])
                {
                    runs[^1] = (runs[^1].Item1, runs[^1].Item2 + n, scales[i]);
                }
                else
                {
                    runs.Add((offset, n, scales[i]));
                }

                offset += n;
            }

            Runs = runs;
        }

        public TorchSharp.Modules.ParamGroup Group { get; }

        public object ParameterList { get; }

        public Parameter[] Parameters { get; }

        public Tensor Values { get; }

        public Tensor ExpAvg { get; }

        public Tensor ExpAvgSq { get; }

        public Tensor? MaxExpAvgSq { get; }

        public State[] States { get; }

        /// <summary>Each parameter's gradient factor <c>c</c> (1 without fold-aware clipping).</summary>
        public double[] Scales { get; }

        /// <summary>Maximal runs of neighbouring parameters with one factor: (offset, length, factor) in the flat buffer.</summary>
        public IReadOnlyList<(long Offset, long Length, double Scale)> Runs { get; }

        /// <summary>
        /// Copies the parameters into one new buffer and points each at its slice; the moments come from each parameter's
        /// state in <paramref name="states"/> (zeros for a new parameter), which is replaced by views of the new moment buffers.
        /// </summary>
        public static FlatGroup Build(TorchSharp.Modules.ParamGroup group, List<Parameter> list, bool amsgrad, int index,
            TorchSharp.Utils.OrderedDict<IntPtr, OptimizerState> states, GradientClipping? clipping)
        {
            var scales = new double[list.Count];
            for (int i = 0; i < list.Count; i++)
            {
                if (clipping?.ScaleByHandle is not { } byHandle)
                {
                    scales[i] = 1.0;
                }
                else if (!byHandle.TryGetValue(list[i].Handle, out scales[i]))
                {
                    throw new InvalidOperationException(
                        $"group {index} holds a parameter [{Listing.Shape(list[i].shape)}] that is not in the model given to SetGradientClipping.");
                }
            }

            if (list.Count == 0)
            {
                return new FlatGroup(group, list, empty(0).DetachFromDisposeScope(), empty(0).DetachFromDisposeScope(), empty(0).DetachFromDisposeScope(),
                    amsgrad ? empty(0).DetachFromDisposeScope() : null, [], scales);
            }

            var first = list[0];
            var dtype = first.dtype;
            var device = first.device;
            foreach (var p in list)
            {
                if (p.dtype != dtype || p.device_type != device.type || p.device_index != device.index)
                {
                    throw new NotSupportedException(
                        $"group {index} mixes {dtype} on {device} with {p.dtype} on {p.device} ([{Listing.Shape(p.shape)}]); a flat group needs one dtype and one device.");
                }

                if (!p.is_floating_point())
                {
                    throw new NotSupportedException($"group {index} holds a {p.dtype} parameter [{Listing.Shape(p.shape)}]; AdamW needs floating-point parameters.");
                }
            }

            long total = list.Sum(p => p.numel());
            var values = empty(total, dtype: dtype, device: device);
            var expAvg = zeros(total, dtype: dtype, device: device);
            var expAvgSq = zeros(total, dtype: dtype, device: device);
            var maxExpAvgSq = amsgrad ? zeros(total, dtype: dtype, device: device) : null;
            var newStates = new State[list.Count];
            long offset = 0;
            for (int i = 0; i < list.Count; i++)
            {
                var p = list[i];
                long n = p.numel();
                var shape = p.shape;
                using (var slice = values.narrow(0, offset, n).view(shape))
                {
                    slice.copy_(p);
                    p.set_(slice);
                }

                var state = new State(p)
                {
                    exp_avg = expAvg.narrow(0, offset, n).view(shape),
                    exp_avg_sq = expAvgSq.narrow(0, offset, n).view(shape),
                    max_exp_avg_sq = maxExpAvgSq?.narrow(0, offset, n).view(shape),
                };
                if (states.TryGetValue(p.Handle, out var previous) && previous is State old)
                {
                    state.step = old.step;
                    state.exp_avg.copy_(old.exp_avg);
                    state.exp_avg_sq.copy_(old.exp_avg_sq);
                    if (state.max_exp_avg_sq is not null && old.max_exp_avg_sq is not null)
                    {
                        state.max_exp_avg_sq.copy_(old.max_exp_avg_sq);
                    }

                    old.Dispose();
                }

                states[p.Handle] = state;
                newStates[i] = state;
                offset += n;
            }

            foreach (var t in new[] { values, expAvg, expAvgSq, maxExpAvgSq })
            {
                t?.DetachFromDisposeScope();
            }

            foreach (var s in newStates)
            {
                s.exp_avg.DetachFromDisposeScope();
                s.exp_avg_sq.DetachFromDisposeScope();
                s.max_exp_avg_sq?.DetachFromDisposeScope();
            }

            return new FlatGroup(group, list, values, expAvg, expAvgSq, maxExpAvgSq, newStates, scales);
        }

        public void Dispose()
        {
            Values.Dispose();
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
            MaxExpAvgSq?.Dispose();
        }
    }
}
