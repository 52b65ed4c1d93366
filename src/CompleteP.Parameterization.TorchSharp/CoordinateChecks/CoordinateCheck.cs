using System.Diagnostics;
using CompleteP.Discovery;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.CoordinateChecks;

/// <summary>
/// Runs coordinate checks (microsoft/mup's, extended to depth) and the laziness check of Dey et al. (2025) on any
/// model <see cref="Parameterize.Apply"/> works for. Every run re-initializes through its own generator (seeded by
/// the run's seed), so results do not depend on torch's process-wide generator or on tests running beside it. A
/// module the check must see that never runs through <c>call</c> (TorchSharp runs no hook for <c>.forward</c>)
/// makes it refuse, naming the module: a check that cannot see cannot pass.
/// </summary>
/// <example>
/// <code>
/// var result = CoordinateCheck.Run((width, depth) => new MyModel(width, depth), (step, seed) => batch, Loss, settings);
/// result.Report().Should().BeStableAcrossWidth();
/// </code>
/// </example>
public static class CoordinateCheck
{
    /// <summary>
    /// Builds, parameterizes and trains one model per parameterization, shape and seed, and records the size of each
    /// recorded module's output on the training forward pass of each step. For models from token ids (or any tensor)
    /// to logits; see the other overload for models with other input and output types.
    /// </summary>
    /// <param name="modelFactory">Builds the model at (width, depth).</param>
    /// <param name="batches">The batch of a step (from 0) and seed: (input, target). Return the same batch for every step to make <c>deltaRms</c> the parameters' change alone.</param>
    /// <param name="loss">The scalar loss of (model output, target).</param>
    /// <param name="settings">What to run.</param>
    /// <param name="progress">Told after each run; null for silence.</param>
    /// <returns>Every measurement.</returns>
    /// <exception cref="CoordinateCheckRefusedException">A module the check records never ran through <c>call</c>.</exception>
    /// <exception cref="NonFiniteValueException">A run's loss or a recorded module's output became NaN or infinite: the message names the run, the step and the module where it first appears.</exception>
    public static CoordinateCheckResult Run(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory,
        Func<int, int, (Tensor Input, Tensor Target)> batches,
        Func<Tensor, Tensor, Tensor> loss,
        CoordinateCheckSettings settings,
        IProgress<CoordinateCheckProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return Run(modelFactory, batches, (model, batch) => loss(model.call(batch.Input), batch.Target), settings, progress);
    }

    /// <summary>
    /// Builds, parameterizes and trains one model per parameterization, shape and seed, and records the size of each
    /// recorded module's output on the training forward pass of each step: for any model, whatever its forward takes
    /// and returns (records, tuples, several arguments).
    /// </summary>
    /// <typeparam name="TModel">The model type.</typeparam>
    /// <typeparam name="TBatch">What a batch is.</typeparam>
    /// <param name="modelFactory">Builds the model at (width, depth).</param>
    /// <param name="batches">The batch of a step (from 0) and seed.</param>
    /// <param name="loss">Runs the model on a batch and returns the scalar loss.</param>
    /// <param name="settings">What to run.</param>
    /// <param name="progress">Told after each run; null for silence.</param>
    /// <returns>Every measurement.</returns>
    /// <exception cref="CoordinateCheckRefusedException">A module the check records never ran through <c>call</c>.</exception>
    /// <exception cref="NonFiniteValueException">A run's loss or a recorded module's output became NaN or infinite: the message names the run, the step and the module where it first appears.</exception>
    public static CoordinateCheckResult Run<TModel, TBatch>(
        Func<int, int, TModel> modelFactory,
        Func<int, int, TBatch> batches,
        Func<TModel, TBatch, Tensor> loss,
        CoordinateCheckSettings settings,
        IProgress<CoordinateCheckProgress>? progress = null)
        where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();

        var measurements = EveryRun(settings, settings.ParameterizationsToRun(), settings.Shapes(), progress,
            (parameterization, width, depth, seed) => OneRun(modelFactory, batches, loss, settings, parameterization, width, depth, seed));
        return new CoordinateCheckResult(measurements, []);
    }

    /// <summary>
    /// The laziness check (Dey et al. 2025, Section 4): at the depth-sweep width, for each depth and
    /// seed, takes one optimizer step and measures each residual branch's (each attention and MLP
    /// <c>F_l</c>'s) distance from its linearization in its parameters,
    /// <c>|h(theta + dtheta) - h(theta) - J dtheta| / |J dtheta|</c>, with the branch's input held at its
    /// value before the step. (Measured on whole blocks instead, the attention's update also moves the
    /// MLP's input by a term scaled by the residual multiplier, which adds a spurious <c>m_L^-1/2</c>.) Runs in float64. <c>J dtheta</c> is a central finite difference,
    /// <c>(h(theta + e dtheta) - h(theta - e dtheta)) / 2e</c> with <c>e = 1e-3</c>: its error is
    /// <c>O(e^2 |dtheta|^3)</c>, about 1e-6 of the nonlinear part being measured, and float64
    /// round-off adds about 1e-13 relative. A folded multiplier scales a branch's output by a constant, which the
    /// ratio does not see. The branches must be Tensor-to-Tensor modules invoked through <c>call</c>.
    /// </summary>
    /// <param name="modelFactory">Builds the model at (width, depth).</param>
    /// <param name="batches">The batch of a step and seed; step 0's batch is used (a floating input is converted to float64).</param>
    /// <param name="loss">The scalar loss of (model output, target).</param>
    /// <param name="settings">What to run: the parameterizations, <see cref="CoordinateCheckSettings.Depths"/> at <see cref="CoordinateCheckSettings.SweepWidth"/>, the seeds.</param>
    /// <param name="progress">Told after each run; null for silence.</param>
    /// <returns>One measurement per residual branch, depth, seed and parameterization.</returns>
    /// <exception cref="CoordinateCheckRefusedException">A residual branch is not a Tensor-to-Tensor module, or did not run through <c>call</c>.</exception>
    public static IReadOnlyList<LazinessMeasurement> Laziness(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory,
        Func<int, int, (Tensor Input, Tensor Target)> batches,
        Func<Tensor, Tensor, Tensor> loss,
        CoordinateCheckSettings settings,
        IProgress<CoordinateCheckProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.Depths.Count < 2)
        {
            throw new ArgumentException("The laziness check needs at least two Depths to fit a slope.", nameof(settings));
        }

        int width = settings.SweepWidth ?? settings.BaseShape.Width;
        return EveryRun(settings, settings.Parameterizations, settings.Depths.Select(depth => (width, depth)).ToList(), progress,
            (parameterization, w, depth, seed) => OneLazinessRun(modelFactory, batches, loss, settings, parameterization, w, depth, seed));
    }

    /// <summary>
    /// The modules a coordinate check records on a model: those matching <paramref name="patterns"/>, or by default
    /// the inputs, every block, every residual branch (or, where a branch is not Tensor to Tensor, the Linear that
    /// writes its output), the residual stream at the final norm's input, the final norm and the readout. Only
    /// Tensor-to-Tensor modules can be recorded.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="declarations">Declarations for a model inference cannot read; null for none.</param>
    /// <param name="patterns">Glob patterns of module names; null or empty for the default set.</param>
    /// <returns>The modules, with their kind and block index.</returns>
    public static IReadOnlyList<RecordableModule> RecordableModules(nn.Module model, ModelDeclarations? declarations = null, IReadOnlyList<string>? patterns = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return RecordedModules(StructureDiscovery.Discover(model, declarations ?? ModelDeclarations.None, allowWidthOnly: true), patterns ?? []);
    }

    /// <summary>Runs <paramref name="one"/> for every parameterization, shape and seed, telling <paramref name="progress"/> after each.</summary>
    private static List<T> EveryRun<T>(CoordinateCheckSettings settings, IReadOnlyList<Parameterization> parameterizations, IReadOnlyList<(int Width, int Depth)> shapes,
        IProgress<CoordinateCheckProgress>? progress, Func<Parameterization, int, int, int, IEnumerable<T>> one)
    {
        int runs = parameterizations.Count * shapes.Count * settings.Seeds.Count, done = 0;
        var clock = Stopwatch.StartNew();
        var rows = new List<T>();
        foreach (var parameterization in parameterizations)
        {
            foreach (var (width, depth) in shapes)
            {
                foreach (int seed in settings.Seeds)
                {
                    rows.AddRange(one(parameterization, width, depth, seed));
                    progress?.Report(new CoordinateCheckProgress(++done, runs, parameterization.Name, width, depth, seed, clock.Elapsed));
                }
            }
        }

        return rows;
    }

    private static (TModel Model, optim.Optimizer Optimizer, ParameterizationPlan Plan, ModelStructure Structure) Build<TModel>(
        Func<int, int, TModel> modelFactory, CoordinateCheckSettings settings, Parameterization parameterization,
        int width, int depth, int seed, ScalarType? dtype = null)
        where TModel : nn.Module
    {
        var model = modelFactory(width, depth);
        if (dtype is { } t)
        {
            model.to(t);
        }

        var optimizer = optim.AdamW(model.parameters(), lr: settings.Hyperparameters.LearningRate, beta1: settings.Beta1, beta2: settings.Beta2);
        using var generator = new Generator((ulong)seed);
        var (plan, structure) = Parameterize.ApplyWithStructure(model, optimizer, new ParameterizeOptions
        {
            Parameterization = parameterization,
            BaseShape = settings.BaseShape,
            HeadDim = settings.HeadDim,
            Hyperparameters = settings.Hyperparameters,
            RuleOptions = settings.RuleOptions,
            Declarations = settings.Declarations,
            Generator = generator,
        });
        InitializeFrozen(structure, plan, generator);
        return (model, optimizer, plan, structure);
    }

    /// <summary>
    /// Frozen tensors keep what the model's constructor drew from torch's process-wide generator (Apply re-draws only the
    /// trainable ones): in a coordinate check they are initialized by the plan too, from the run's generator, so that a run
    /// depends on its seed alone, whatever other threads draw meanwhile.
    /// </summary>
    private static void InitializeFrozen(ModelStructure structure, ParameterizationPlan plan, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var p in structure.Parameters.Where(p => !p.Trainable && p.Tensor.is_floating_point() && p.Tensor.device_type != DeviceType.META))
        {
            Initialization.Draw(p.Tensor, plan[p.Name].Applied, generator);
        }
    }

    /// <summary>
    /// Training mode with every dropout module off (in eval mode, the identity). Dropout draws from torch's process-wide
    /// generator at every step, so a check with it would not reproduce from its seeds and parallel checks would change each
    /// other's results; it does not change how activations scale with width and depth. Public models hard-code it (MinGPT's
    /// MLP keeps p = 0.1 whatever its constructor is given), so the check turns it off rather than refusing the model.
    /// </summary>
    private static void TrainWithoutDropout(nn.Module model)
    {
        model.train();
        foreach (var m in ModuleTree.Of(model).Modules.Where(m => m.Module.GetType().Name.Contains("Dropout", StringComparison.Ordinal)))
        {
            m.Module.eval();
        }
    }

    /// <summary>One training step; <paramref name="check"/> sees the loss after the forward pass, before anything is updated.</summary>
    private static void TrainStep(nn.Module model, optim.Optimizer optimizer, ParameterizationPlan plan, Func<Tensor> loss, double clip, Action<double> check)
    {
        optimizer.zero_grad();
        using var scope = NewDisposeScope();
        var value = loss();
        check(value.to(ScalarType.Float64).item<double>());
        value.backward();
        if (clip > 0)
        {
            Optimizers.ParameterizedGradients.ClipGradNorm(model, plan, clip);
        }

        optimizer.step();
    }

    /// <summary>
    /// Stops a run whose loss or recorded activations hold NaN or an infinity at a step, naming the step and the module where
    /// the value first appears (the forward pass of the step run again, every module watched).
    /// </summary>
    private static void StopIfNonFinite(double loss, IEnumerable<CoordinateMeasurement> recorded, int step, nn.Module model, Action forward, string run)
    {
        var activation = recorded.FirstOrDefault(m => m.Step == step && !(double.IsFinite(m.Rms) && double.IsFinite(m.MeanAbs)));
        if (double.IsFinite(loss) && activation is null)
        {
            return;
        }

        string? source = NonFiniteValues.Locate(model, forward) ?? activation?.Module;
        throw NonFiniteValues.Exception(step, activation is not null ? "activation" : "loss",
            activation is not null ? $"NaN or infinite in '{activation.Module}'" : double.IsNaN(loss) ? "NaN" : "infinite", source, $"coordinate check ({run})");
    }

    private static List<CoordinateMeasurement> OneRun<TModel, TBatch>(
        Func<int, int, TModel> modelFactory, Func<int, int, TBatch> batches, Func<TModel, TBatch, Tensor> loss,
        CoordinateCheckSettings settings, Parameterization parameterization, int width, int depth, int seed)
        where TModel : nn.Module
    {
        var (model, optimizer, plan, structure) = Build(modelFactory, settings, parameterization, width, depth, seed);
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;
        // A final norm carrying the folded logit multiplier c (a tied readout) outputs c times Table 1's final norm: its
        // measurements are divided by c, so every width reports the unfolded model (c is 1 at the base width, 1/m_N beyond).
        var modules = RecordedModules(structure, settings.ModulePatterns);
        var unfold = modules.Where(r => r.Kind == ModuleKind.FinalNorm)
            .Select(r => (r.Name, Fold: plan.Rows.FirstOrDefault(row => row.Folded?.Kind == MultiplierKind.Output && row.Name.StartsWith(r.Name + ".", StringComparison.Ordinal))?.Folded))
            .Where(u => u.Fold is not null)
            .ToDictionary(u => u.Name, u => u.Fold!.Value.Value, StringComparer.Ordinal);
        using var recorder = new ActivationRecorder(modules, parameterization.Name, width, depth, seed);
        TrainWithoutDropout(model);
        string run = $"{parameterization}, width {width}, depth {depth}, seed {seed}";
        for (int step = 1; step <= settings.Steps; step++)
        {
            recorder.Step = step;
            var batch = batches(step - 1, seed);
            int current = step;
            TrainStep(model, optimizer, plan, () => loss(model, batch), settings.GradientClip, value =>
            {
                recorder.Step = 0; // the forward that looks for the source records nothing
                StopIfNonFinite(value, recorder.Measurements, current, model, () => loss(model, batch), run);
                recorder.Step = current;
            });
        }

        var silent = recorder.Silent;
        if (silent.Count > 0)
        {
            throw new CoordinateCheckRefusedException(silent,
                $"The coordinate check recorded nothing for {string.Join(", ", silent.Select(s => $"'{s}'"))} ({parameterization}, width {width}, depth {depth}): TorchSharp runs forward hooks " +
                "only for module.call(x), so these modules are invoked through .forward(x) (or not at all). Invoke them with .call(x), or restrict the check to modules it can see " +
                "with CoordinateCheckSettings.ModulePatterns; a check that cannot see them cannot judge them.");
        }

        return recorder.Measurements
            .Select(m => unfold.TryGetValue(m.Module, out double c) ? m with { MeanAbs = m.MeanAbs / c, Rms = m.Rms / c, DeltaRms = m.DeltaRms / c } : m)
            .ToList();
    }

    /// <summary>The modules to record, with their kind and block index.</summary>
    internal static List<RecordableModule> RecordedModules(ModelStructure structure, IReadOnlyList<string> patterns)
    {
        var modules = new List<RecordableModule>();
        void Add(TreeModule? m, ModuleKind kind, bool input = false)
        {
            if (m?.Module is nn.Module<Tensor, Tensor> module)
            {
                modules.Add(new RecordableModule(input ? m.Name + ".input" : m.Name, module, kind, structure.BlockIndexOf(m.Name), input));
            }
        }

        foreach (var m in structure.Tree.Modules.Where(m => m.Name.Length > 0))
        {
            if (structure.Inputs.Contains(m))
            {
                Add(m, ModuleKind.Input);
            }
            else if (structure.Blocks.Contains(m))
            {
                Add(m, ModuleKind.Block);
            }
            else if (structure.Branches.FirstOrDefault(b => b.Module == m) is { } branch)
            {
                if (m.Module is nn.Module<Tensor, Tensor> && branch.OutputNorm is null)
                {
                    Add(m, ModuleKind.Branch);
                }
                else
                {
                    // What the branch adds to the residual stream: its output norm's output, else each output projection's.
                    foreach (var writer in branch.Writers)
                    {
                        Add(writer, ModuleKind.BranchOutput);
                    }
                }
            }
            else if (m == FinalNorm(structure))
            {
                Add(m, ModuleKind.ResidualStream, input: true);
                Add(m, ModuleKind.FinalNorm);
            }
            else if (m == structure.Readout)
            {
                Add(m, ModuleKind.Readout);
            }
            else if (structure.Parameters.Any(p => p.ModuleName == m.Name && p.Role == TensorRole.BlockReadout))
            {
                Add(m, ModuleKind.BlockReadout);
            }
            else if (patterns.Count > 0)
            {
                Add(m, ModuleKind.Other);
            }
        }

        return patterns.Count == 0 ? modules : modules.Where(r => patterns.Any(p => Glob.Matches(p, r.Name))).ToList();
    }

    /// <summary>The norm after the last block: the final-norm module registered after the first block, else the only one.</summary>
    private static TreeModule? FinalNorm(ModelStructure structure)
    {
        // Where the plan found no final norm to fold into, the only norm outside the blocks still shows the residual stream.
        var norms = structure.Parameters.Where(p => p.Role == TensorRole.FinalNorm).Select(p => structure.Tree.Find(p.ModuleName)!).Distinct().ToList();
        return structure.FinalNorm ?? (norms.Count == 1 ? norms[0] : null);
    }

    private static List<LazinessMeasurement> OneLazinessRun(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory, Func<int, int, (Tensor Input, Tensor Target)> batches,
        Func<Tensor, Tensor, Tensor> loss, CoordinateCheckSettings settings, Parameterization parameterization, int width, int depth, int seed)
    {
        const double e = 1e-3;
        var (model, optimizer, plan, structure) = Build(modelFactory, settings, parameterization, width, depth, seed, ScalarType.Float64);
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;

        // The residual branches F_l (attention, MLP) are what the paper linearizes: each with its own input held fixed.
        var unusable = structure.Branches.Where(b => b.Module.Module is not nn.Module<Tensor, Tensor>).Select(b => b.Name).ToList();
        if (unusable.Count > 0)
        {
            throw new CoordinateCheckRefusedException(unusable,
                $"The laziness check calls each residual branch on its own input, and {Listing.FirstOf(unusable.Select(u => $"'{u}'").ToList(), 3)} " +
                "are not Tensor-to-Tensor modules, so they cannot be called alone.");
        }

        var branches = structure.Branches.Select(b => (name: b.Name, (nn.Module<Tensor, Tensor>)b.Module.Module)).ToList();

        // The branch inputs before the step.
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var removers = branches.Select(b =>
        {
            var handle = b.Item2.register_forward_hook((_, input, output) =>
            {
                if (inputs.Remove(b.name, out var old))
                {
                    old.Dispose();
                }

                inputs[b.name] = input.detach().clone().DetachFromDisposeScope();
                return output;
            });
            return (Action)handle.remove;
        }).ToList();

        var batch = batches(0, seed);
        var input64 = batch.Input.is_floating_point() ? batch.Input.to(ScalarType.Float64) : batch.Input;
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        TrainWithoutDropout(model);
        TrainStep(model, optimizer, plan, () => loss(model.call(input64), batch.Target), settings.GradientClip,
            value => StopIfNonFinite(value, [], 1, model, () => loss(model.call(input64), batch.Target), $"laziness check, {parameterization}, width {width}, depth {depth}, seed {seed}"));
        removers.ForEach(r => r());
        var silent = branches.Where(b => !inputs.ContainsKey(b.name)).Select(b => b.name).ToList();
        if (silent.Count > 0)
        {
            throw new CoordinateCheckRefusedException(silent,
                $"The laziness check saw no input for {Listing.FirstOf(silent.Select(s => $"'{s}'").ToList(), 3)}: TorchSharp runs forward hooks only for " +
                "module.call(x), so these branches are invoked through .forward(x). Invoke them with .call(x).");
        }

        var parameters = model.parameters().ToList();
        var step = parameters.Select((p, i) => (p.detach() - before[i]).DetachFromDisposeScope()).ToList();

        var rows = new List<LazinessMeasurement>();
        using (no_grad())
        {
            // Back to theta, then vary one branch's parameters at a time.
            for (int i = 0; i < parameters.Count; i++)
            {
                parameters[i].copy_(before[i]);
            }

            model.eval();
            for (int b = 0; b < branches.Count; b++)
            {
                var (name, branch) = branches[b];
                var own = branch.parameters().Select(p => parameters.FindIndex(q => q.Handle == p.Handle)).Where(i => i >= 0).ToList();
                Tensor At(double scale)
                {
                    using var factor = scale.ToScalar(); // held across the native calls (an implicit Scalar is freed by the finalizer alone)
                    foreach (int i in own)
                    {
                        parameters[i].copy_(before[i] + step[i].mul(factor));
                    }

                    return branch.call(inputs[name]).detach().clone();
                }

                var h0 = At(0);
                var h1 = At(1);
                var jdtheta = (At(e) - At(-e)) / (2 * e);
                At(0);
                double nonlinear = (h1 - h0 - jdtheta).norm().item<double>();
                double linear = jdtheta.norm().item<double>();
                rows.Add(new LazinessMeasurement(parameterization.Name, width, depth, seed, name, structure.BlockIndexOf(name), nonlinear, linear));
            }
        }

        foreach (var t in inputs.Values.Concat(step).Concat(before))
        {
            t.Dispose();
        }

        return rows;
    }
}
