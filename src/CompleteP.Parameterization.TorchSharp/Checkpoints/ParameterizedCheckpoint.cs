using System.Text.Json;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Saves a parameterized model with its plan, and loads it back with the parameterization intact:
/// the weights go to <c>path</c> (TorchSharp's format), the plan to <c>path.plan.json</c>, the
/// optimizer state (when given) to <c>path.optim</c>, and a manifest of the three files' SHA-256 to
/// <c>path.checkpoint.json</c>. Loading re-attaches the plan (multipliers and optimizer groups) without
/// re-initializing.
/// </summary>
/// <remarks>
/// A save writes every file to a temporary name beside its final one and flushes it to disk (the part that takes time:
/// a run killed there leaves the previous checkpoint as it was). Then it commits: the previous checkpoint's files move
/// aside whole (<c>.prev</c>), the new ones take their names (the manifest last), and the previous ones are deleted. A run
/// killed during the commit leaves a complete set under one of the two names, and <see cref="Load"/> reads the set whose
/// files match their manifest: the new checkpoint, or else the previous one; never files of two saves. The next save
/// puts an interrupted commit's previous set back first.
/// </remarks>
public static class ParameterizedCheckpoint
{
    /// <summary>The plan file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.plan.json</c>.</returns>
    internal static string PlanPath(string path) => path + ".plan.json";

    /// <summary>The optimizer-state file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.optim</c>.</returns>
    internal static string OptimizerPath(string path) => path + ".optim";

    /// <summary>The manifest beside a weights file: the SHA-256 of the weights, the plan and the optimizer state saved together.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.checkpoint.json</c>.</returns>
    internal static string ManifestPath(string path) => path + ".checkpoint.json";

    /// <summary>
    /// Saves the weights, the plan and, when given, the optimizer state, atomically per file (temporary file, then rename),
    /// with a manifest that ties the files of one save together. Checks first that the model, the optimizer and the plan
    /// still belong together (<see cref="Parameterize.Verify"/>): nothing is written otherwise.
    /// </summary>
    /// <param name="model">The parameterized model.</param>
    /// <param name="plan">The plan Apply returned.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="optimizer">The optimizer whose state to save, or null.</param>
    /// <exception cref="ArgumentException">The model no longer matches the plan or the optimizer (changed, or moved with model.to, after Apply).</exception>
    public static void Save(nn.Module model, ParameterizationPlan plan, string path, optim.Optimizer? optimizer = null) =>
        Save(model, plan, path, optimizer, seam: null);

    /// <summary>
    /// <see cref="Save(nn.Module, ParameterizationPlan, string, optim.Optimizer?)"/>, calling <paramref name="seam"/> at each
    /// <see cref="CheckpointStage"/> of the save with the file concerned (a test seam to fail at any point of a save).
    /// </summary>
    internal static void Save(nn.Module model, ParameterizationPlan plan, string path, optim.Optimizer? optimizer, Action<CheckpointStage, string>? seam)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Parameterize.Verify(model, optimizer, plan);
        path = Path.GetFullPath(path);
        CheckpointCommit.Write(path,
            weights => model.save(weights),
            planFile => File.WriteAllText(planFile, PlanJson.Serialize(plan)),
            optimizer is null ? null : optimizerFile => ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(optimizerFile),
            seam);
    }

    /// <summary>
    /// Loads weights and plan into a freshly built model of the same architecture, re-attaches the
    /// plan (forward multipliers, optimizer groups) and restores the optimizer state if it was saved.
    /// The files are checked against the manifest first; after a save interrupted while committing, the previous
    /// save's files are read. Each group keeps the plan's learning rate (the
    /// base of a schedule; TorchSharp's schedulers keep no state): set the schedule's factor for the step
    /// you resume at (<see cref="GroupLearningRates.SetFactor"/>) before the next step.
    /// </summary>
    /// <param name="model">A fresh model of the saved architecture and shape.</param>
    /// <param name="optimizer">Its optimizer, built from <c>model.parameters()</c>.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="declarations">The declarations Apply used, if any.</param>
    /// <param name="sampleForward">
    /// One forward pass of the model on a sample input (e.g. <c>() => model.call(tokens)</c>); required when the saved plan
    /// has hooks (<see cref="MultiplierMode.Hooks"/>), which it proves fire (<see cref="Parameterize.Attach"/>).
    /// </param>
    /// <returns>The plan.</returns>
    /// <exception cref="FileNotFoundException">The weights or the plan of a checkpoint without a manifest is missing.</exception>
    /// <exception cref="InvalidDataException">Neither the checkpoint's files nor a previous save's left by an interrupted commit match their manifest (files replaced or damaged).</exception>
    /// <exception cref="JsonException">The plan file is not a plan (the message says what and where).</exception>
    /// <exception cref="ParameterClassificationException">The plan has hooks and no <paramref name="sampleForward"/> was given, or a hook did not fire on it.</exception>
    public static ParameterizationPlan Load(nn.Module model, optim.Optimizer optimizer, string path, ModelDeclarations? declarations = null, Action? sampleForward = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        path = Path.GetFullPath(path);
        var set = CheckpointCommit.Readable(path);
        var planFile = new FileInfo(set.Plan);
        if (planFile.Length > 4L * PlanJson.DefaultMaxLength)
        {
            throw new InvalidDataException($"'{planFile.FullName}' is {planFile.Length} bytes long, more than a plan document can be ({PlanJson.DefaultMaxLength} characters): it is not a plan.");
        }

        var plan = PlanJson.Deserialize(File.ReadAllText(planFile.FullName));
        if (plan.Hooks.Count > 0 && sampleForward is null)
        {
            throw new ParameterClassificationException([
                $"the checkpoint's plan applies multipliers through forward hooks ({string.Join("; ", plan.Hooks)}), which TorchSharp runs only for module.call(x): pass sampleForward " +
                "(e.g. () => model.call(sampleIds)) so that Load proves every hook fires before it loads anything."]);
        }

        model.load(set.Weights);
        Parameterize.Attach(model, optimizer, plan, declarations, sampleForward: sampleForward);
        if (set.Optimizer is { } optimizerFile)
        {
            // The saved state holds each group's learning rate at the step of the save (a schedule's value); TorchSharp's
            // schedulers keep no state, so a schedule resumes from the plan's rates, its base: keep those.
            var groups = optimizer.ParamGroups.OfType<TorchSharp.Modules.ParamGroup>().ToList();
            var rates = groups.Select(g => (g.LearningRate, g.InitialLearningRate)).ToList();
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(optimizerFile);
            for (int i = 0; i < groups.Count; i++)
            {
                (groups[i].LearningRate, groups[i].InitialLearningRate) = rates[i];
            }
        }

        return plan;
    }
}
