using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.CoordinateChecks;


/// <summary>
/// Runs coordinate checks (microsoft/mup's, extended to depth) and the laziness check of
/// Dey et al. (2025) on any model <see cref="Parameterize.Apply"/> works for.
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
    /// Builds, parameterizes and trains one model per parameterization, shape and seed, and records
    /// the size of each recorded module's output on the training forward pass of each step.
    /// </summary>
    /// <param name="modelFactory">Builds the model at (width, depth).</param>
    /// <param name="batches">The batch of a step (from 0) and seed: (input, target). Return the same batch for every step to make <c>deltaRms</c> the parameters' change alone.</param>
    /// <param name="loss">The scalar loss of (model output, target).</param>
    /// <param name="settings">What to run.</param>
    /// <param name="progress">Told after each run; null for silence.</param>
    /// <returns>Every measurement.</returns>
    public static CoordinateCheckResult Run(
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

        var measurements = EveryRun(settings, settings.Shapes(), progress,
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
    /// round-off adds about 1e-13 relative.
    /// </summary>
    /// <param name="modelFactory">Builds the model at (width, depth).</param>
    /// <param name="batches">The batch of a step and seed; step 0's batch is used.</param>
    /// <param name="loss">The scalar loss of (model output, target).</param>
    /// <param name="settings">What to run: the parameterizations, <see cref="CoordinateCheckSettings.Depths"/> at <see cref="CoordinateCheckSettings.SweepWidth"/>, the seeds.</param>
    /// <param name="progress">Told after each run; null for silence.</param>
    /// <returns>One measurement per residual branch, depth, seed and parameterization.</returns>
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
        var result = EveryRun(settings, settings.Depths.Select(depth => (width, depth)).ToList(), progress,
            (parameterization, w, depth, seed) => OneLazinessRun(modelFactory, batches, loss, settings, parameterization, w, depth, seed));
        return result;
    }

    /// <summary>Runs <paramref name="one"/> for every parameterization, shape and seed, telling <paramref name="progress"/> after each.</summary>
    private static List<T> EveryRun<T>(CoordinateCheckSettings settings, IReadOnlyList<(int Width, int Depth)> shapes,
        IProgress<CoordinateCheckProgress>? progress, Func<Parameterization, int, int, int, IEnumerable<T>> one)
    {
        int runs = settings.Parameterizations.Count * shapes.Count * settings.Seeds.Count, done = 0;
        var clock = Stopwatch.StartNew();
        var rows = new List<T>();
        foreach (var parameterization in settings.Parameterizations)
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

    private static (nn.Module<Tensor, Tensor> Model, optim.Optimizer Optimizer, ModelStructure Structure) Build(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory, CoordinateCheckSettings settings, Parameterization parameterization,
        int width, int depth, int seed, ScalarType? dtype = null)
    {
        manual_seed(seed);
        var model = modelFactory(width, depth);
        if (dtype is { } t)
        {
            model.to(t);
        }

        var optimizer = optim.AdamW(model.parameters(), lr: settings.Hyperparameters.LearningRate, beta1: settings.Beta1, beta2: settings.Beta2);
        Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = parameterization,
            BaseShape = settings.BaseShape,
            HeadDim = settings.HeadDim,
            Hyperparameters = settings.Hyperparameters,
            RuleOptions = settings.RuleOptions,
            Declarations = settings.Declarations,
        });
        var structure = StructureDiscovery.Discover(model, settings.Declarations);
        return (model, optimizer, structure);
    }

    private static void TrainStep(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss,
        (Tensor Input, Tensor Target) batch, double clip)
    {
        optimizer.zero_grad();
        using var scope = NewDisposeScope();
        var value = loss(model.call(batch.Input), batch.Target);
        value.backward();
        if (clip > 0)
        {
            nn.utils.clip_grad_norm_(model.parameters(), clip);
        }

        optimizer.step();
    }

    private static List<CoordinateMeasurement> OneRun(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory, Func<int, int, (Tensor Input, Tensor Target)> batches,
        Func<Tensor, Tensor, Tensor> loss, CoordinateCheckSettings settings, Parameterization parameterization, int width, int depth, int seed)
    {
        var (model, optimizer, structure) = Build(modelFactory, settings, parameterization, width, depth, seed);
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;
        using var recorder = new ActivationRecorder(RecordedModules(model, structure, settings.ModulePatterns), parameterization.Name, width, depth, seed);
        model.train();
        for (int step = 1; step <= settings.Steps; step++)
        {
            recorder.Step = step;
            TrainStep(model, optimizer, loss, batches(step - 1, seed), settings.GradientClip);
        }

        return recorder.Measurements.ToList();
    }

    /// <summary>
    /// The modules a coordinate check records on a model: those matching <paramref name="patterns"/>, or by
    /// default the inputs, every block, every residual branch, the final norm and the readout; with
    /// their kind and block index, ready for <see cref="ActivationRecorder"/>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="declarations">Declarations for a model inference cannot read; null for none.</param>
    /// <param name="patterns">Glob patterns of module names; null or empty for the default set.</param>
    /// <returns>(name, module, kind, block index) of each module.</returns>
    public static IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module, string Kind, int BlockIndex)> RecordableModules(
        nn.Module model, ModelDeclarations? declarations = null, IReadOnlyList<string>? patterns = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return RecordedModules(model, StructureDiscovery.Discover(model, declarations ?? ModelDeclarations.None), patterns ?? []);
    }

    /// <summary>The modules to record, with their kind and block index.</summary>
    internal static List<(string Name, nn.Module<Tensor, Tensor> Module, string Kind, int BlockIndex)> RecordedModules(
        nn.Module model, ModelStructure structure, IReadOnlyList<string> patterns)
    {
        var finalNorms = structure.Parameters.Where(p => p.Role == TensorRole.FinalNorm).Select(p => p.ModuleName).ToHashSet(StringComparer.Ordinal);
        var branches = structure.ResidualBranches.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = structure.InputModules.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        string Kind(string name) =>
            inputs.Contains(name) ? "input"
            : structure.BlockNames.Contains(name) ? "block"
            : branches.Contains(name) ? "branch"
            : finalNorms.Contains(name) ? "finalNorm"
            : structure.Readout?.Name == name ? "readout"
            : "other";
        int BlockIndex(string name) => structure.BlockNames.ToList().FindIndex(b => name == b || name.StartsWith(b + ".", StringComparison.Ordinal));

        var matchers = patterns.Select(p => new RoleDeclaration(p, TensorRole.Embedding)).ToList();
        var all = new List<(string, nn.Module)>();
        void Walk(string name, nn.Module module)
        {
            all.Add((name, module));
            foreach (var (child, m) in module.named_children())
            {
                Walk(name.Length == 0 ? child : name + "." + child, m);
            }
        }

        Walk(string.Empty, model);
        return all
            .Where(m => m.Item1.Length > 0 && m.Item2 is nn.Module<Tensor, Tensor>)
            .Where(m => matchers.Count > 0 ? matchers.Any(x => x.Matches(m.Item1)) : Kind(m.Item1) != "other")
            .Select(m => (m.Item1, (nn.Module<Tensor, Tensor>)m.Item2, Kind(m.Item1), BlockIndex(m.Item1)))
            .ToList();
    }

    private static List<LazinessMeasurement> OneLazinessRun(
        Func<int, int, nn.Module<Tensor, Tensor>> modelFactory, Func<int, int, (Tensor Input, Tensor Target)> batches,
        Func<Tensor, Tensor, Tensor> loss, CoordinateCheckSettings settings, Parameterization parameterization, int width, int depth, int seed)
    {
        const double e = 1e-3;
        var (model, optimizer, structure) = Build(modelFactory, settings, parameterization, width, depth, seed, ScalarType.Float64);
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;
        // The residual branches F_l (attention, MLP) are what the paper linearizes: each with its own input held fixed.
        var branches = structure.ResidualBranches.Select(b => (name: b.Name, (nn.Module<Tensor, Tensor>)b.Module)).ToList();

        // The branch inputs before the step.
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var removers = branches.Select(b =>
        {
            var handle = b.Item2.register_forward_hook((_, input, output) =>
            {
                inputs[b.name] = input.detach().clone().DetachFromDisposeScope();
                return output;
            });
            return (Action)handle.remove;
        }).ToList();

        var batch = batches(0, seed);
        var input64 = batch.Input.is_floating_point() ? batch.Input.to(ScalarType.Float64) : batch.Input;
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        model.train();
        TrainStep(model, optimizer, loss, (input64, batch.Target), settings.GradientClip);
        removers.ForEach(r => r());
        var parameters = model.parameters().ToList();
        var step = parameters.Select((p, i) => (p.detach() - before[i]).DetachFromDisposeScope()).ToList();

        var rows = new List<LazinessMeasurement>();
        using (no_grad())
        {
            // Back to theta, then vary one block's parameters at a time.
            for (int i = 0; i < parameters.Count; i++)
            {
                parameters[i].copy_(before[i]);
            }

            model.eval();
            var blockNames = structure.BlockNames.ToList();
            for (int b = 0; b < branches.Count; b++)
            {
                var (name, branch) = branches[b];
                var own = branch.parameters().Select(p => parameters.FindIndex(q => q.Handle == p.Handle)).Where(i => i >= 0).ToList();
                Tensor At(double scale)
                {
                    foreach (int i in own)
                    {
                        parameters[i].copy_(before[i] + step[i] * scale);
                    }

                    return branch.call(inputs[name]).detach().clone();
                }

                var h0 = At(0);
                var h1 = At(1);
                var jdtheta = (At(e) - At(-e)) / (2 * e);
                At(0);
                double nonlinear = (h1 - h0 - jdtheta).norm().item<double>();
                double linear = jdtheta.norm().item<double>();
                int blockIndex = blockNames.FindIndex(n => name.StartsWith(n + ".", StringComparison.Ordinal));
                rows.Add(new LazinessMeasurement(parameterization.Name, width, depth, seed, name, blockIndex, nonlinear, linear));
            }
        }

        foreach (var t in inputs.Values.Concat(step).Concat(before))
        {
            t.Dispose();
        }

        return rows;
    }
}
