using System.Security.Cryptography;
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
    private const int ManifestFormat = 1;

    /// <summary>The plan file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.plan.json</c>.</returns>
    public static string PlanPath(string path) => path + ".plan.json";

    /// <summary>The optimizer-state file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.optim</c>.</returns>
    public static string OptimizerPath(string path) => path + ".optim";

    /// <summary>The manifest beside a weights file: the SHA-256 of the weights, the plan and the optimizer state saved together.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.checkpoint.json</c>.</returns>
    public static string ManifestPath(string path) => path + ".checkpoint.json";

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
        Save(model, plan, path, optimizer, afterWriting: null);

    /// <summary>
    /// <see cref="Save(nn.Module, ParameterizationPlan, string, optim.Optimizer?)"/>, calling <paramref name="afterWriting"/> with each temporary
    /// file once it is written, with <c>aside:</c> and a final name once the previous file moved aside, and with <c>commit:</c> and a final name
    /// once the new file took it (a test seam to fail at any point of a save).
    /// </summary>
    internal static void Save(nn.Module model, ParameterizationPlan plan, string path, optim.Optimizer? optimizer, Action<string>? afterWriting)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Parameterize.Verify(model, optimizer, plan);
        path = Path.GetFullPath(path);
        RecoverInterruptedCommit(path);
        RemoveStaleTemporaries(path);

        string suffix = ".tmp-" + Guid.NewGuid().ToString("N");
        var temporaries = new List<string>();
        string Temporary(string final)
        {
            string t = final + suffix;
            temporaries.Add(t);
            return t;
        }

        try
        {
            string weights = Temporary(path), planFile = Temporary(PlanPath(path));
            string? optimizerFile = optimizer is null ? null : Temporary(OptimizerPath(path));
            string manifest = Temporary(ManifestPath(path));

            model.save(weights);
            Written(weights, afterWriting);
            File.WriteAllText(planFile, PlanJson.Serialize(plan));
            Written(planFile, afterWriting);
            if (optimizerFile is not null)
            {
                ((TorchSharp.Modules.OptimizerHelper)optimizer!).save_state_dict(optimizerFile);
                Written(optimizerFile, afterWriting);
            }

            File.WriteAllText(manifest, JsonSerializer.Serialize(new Manifest(ManifestFormat, Hash(weights), Hash(planFile), optimizerFile is null ? null : Hash(optimizerFile))));
            Written(manifest, afterWriting);

            // Commit. The previous files move aside first, so that a complete set stays under one of the two names at every point.
            foreach (var final in Files(path).Where(File.Exists))
            {
                File.Move(final, Previous(final), overwrite: true);
                afterWriting?.Invoke("aside:" + final);
            }

            File.Move(planFile, PlanPath(path), overwrite: true);
            Committing(PlanPath(path), afterWriting);
            if (optimizerFile is not null)
            {
                File.Move(optimizerFile, OptimizerPath(path), overwrite: true);
                Committing(OptimizerPath(path), afterWriting);
            }

            File.Move(weights, path, overwrite: true);
            Committing(path, afterWriting);
            File.Move(manifest, ManifestPath(path), overwrite: true);
            foreach (var final in Files(path))
            {
                File.Delete(Previous(final));
            }
        }
        finally
        {
            foreach (var t in temporaries.Where(File.Exists))
            {
                File.Delete(t);
            }
        }
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
        var set = Readable(path);
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

    /// <summary>The files of one save: weights, plan, optimizer state (null when the save had none), manifest (null for a checkpoint from before manifests).</summary>
    private sealed record FileSet(string Weights, string Plan, string? Optimizer, string? Manifest);

    private static string[] Files(string path) => [path, PlanPath(path), OptimizerPath(path), ManifestPath(path)];

    private static string Previous(string file) => file + ".prev";

    /// <summary>The set of files to load: the checkpoint's, when they match their manifest; else the previous save's, left by a commit that was interrupted.</summary>
    private static FileSet Readable(string path)
    {
        bool interrupted = Files(path).Any(f => File.Exists(Previous(f)));
        string? why = null;
        if (File.Exists(ManifestPath(path)) || interrupted)
        {
            if (Consistent(Primary(path), out why) is { } current)
            {
                return current;
            }

            if (interrupted && Consistent(Earlier(path), out _) is { } previous)
            {
                return previous;
            }

            throw new InvalidDataException(
                $"The checkpoint '{path}' is inconsistent: {why} (a save was interrupted, or a file was replaced or damaged), and no complete previous save is beside it. " +
                "Resuming would mix two steps: resume from another checkpoint.");
        }

        foreach (var file in new[] { path, PlanPath(path) }.Where(f => !File.Exists(f)))
        {
            throw new FileNotFoundException($"The checkpoint '{path}' is incomplete: '{file}' is missing (save with ParameterizedCheckpoint.Save).", file);
        }

        return new FileSet(path, PlanPath(path), File.Exists(OptimizerPath(path)) ? OptimizerPath(path) : null, null); // saved before manifests
    }

    private static FileSet Primary(string path) => new(path, PlanPath(path), OptimizerPath(path), ManifestPath(path));

    /// <summary>The previous save's files during a commit: each moved aside (<c>.prev</c>) or not yet.</summary>
    private static FileSet Earlier(string path)
    {
        string Pick(string file) => File.Exists(Previous(file)) ? Previous(file) : file;
        return new FileSet(Pick(path), Pick(PlanPath(path)), Pick(OptimizerPath(path)), Pick(ManifestPath(path)));
    }

    /// <summary>The set, with the optimizer state only if the manifest lists one, when every file exists and matches the manifest; else null and why.</summary>
    private static FileSet? Consistent(FileSet files, out string? why)
    {
        Manifest? manifest = null;
        try
        {
            if (files.Manifest is { } m && File.Exists(m))
            {
                manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(m));
            }
        }
        catch (JsonException)
        {
            // not a manifest: no set
        }

        if (manifest is not { Format: ManifestFormat, Weights: not null, Plan: not null })
        {
            why = $"its manifest '{files.Manifest}' is missing or not a checkpoint manifest of format {ManifestFormat}";
            return null;
        }

        var expected = new List<(string File, string Hash, string What)> { (files.Weights, manifest.Weights, "weights"), (files.Plan, manifest.Plan, "plan") };
        if (manifest.Optimizer is { } optimizerHash)
        {
            expected.Add((files.Optimizer!, optimizerHash, "optimizer state"));
        }

        var missing = expected.Where(f => !File.Exists(f.File)).ToList();
        var wrong = expected.Except(missing).Where(f => Hash(f.File) != f.Hash).ToList();
        if (missing.Count + wrong.Count > 0)
        {
            why = string.Join("; ", missing.Select(m => $"its {m.What} '{m.File}' is missing")
                .Concat(wrong.Select(w => $"its {w.What} '{w.File}' is not the file saved with the others")));
            return null;
        }

        why = null;
        return files with { Optimizer = manifest.Optimizer is null ? null : files.Optimizer };
    }

    /// <summary>A commit that was interrupted left the previous save's files aside: when the checkpoint itself is not complete, they take their names back.</summary>
    private static void RecoverInterruptedCommit(string path)
    {
        if (!Files(path).Any(f => File.Exists(Previous(f))))
        {
            return;
        }

        if (Consistent(Primary(path), out _) is null && Consistent(Earlier(path), out _) is not null)
        {
            foreach (var file in Files(path).Where(f => File.Exists(Previous(f))))
            {
                File.Move(Previous(file), file, overwrite: true);
            }
        }

        foreach (var file in Files(path))
        {
            File.Delete(Previous(file));
        }
    }

    private static void Committing(string file, Action<string>? afterWriting) => afterWriting?.Invoke("commit:" + file);


    private static void Written(string file, Action<string>? afterWriting)
    {
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            stream.Flush(flushToDisk: true); // on disk before the rename makes it the checkpoint
        }

        afterWriting?.Invoke(file);
    }

    private static string Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>Temporary files a killed save left beside these files.</summary>
    private static void RemoveStaleTemporaries(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            return;
        }

        string name = Path.GetFileName(path);
        foreach (var stale in Directory.EnumerateFiles(folder, name + "*.tmp-*")
                     .Where(f => System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(f), @"\.tmp-[0-9a-f]{32}$")))
        {
            File.Delete(stale);
        }
    }

    /// <summary>The manifest of one save.</summary>
    private sealed record Manifest(int Format, string? Weights, string? Plan, string? Optimizer);
}
