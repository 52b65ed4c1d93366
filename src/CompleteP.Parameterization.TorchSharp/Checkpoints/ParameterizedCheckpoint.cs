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
/// A save writes every file to a temporary name beside its final one, flushes it to disk, and only then renames
/// them into place (the plan, the optimizer state, the weights, the manifest last): a run killed while writing (the
/// part that takes time) leaves the previous checkpoint as it was, readable. A run killed in the instant between the
/// renames leaves files of two saves, which <see cref="Load"/> finds by their hashes and refuses rather than resume
/// from weights of one step and moments of another.
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

    /// <summary><see cref="Save(nn.Module, ParameterizationPlan, string, optim.Optimizer?)"/>, calling <paramref name="afterWriting"/> with each temporary file once it is written (a test seam to fail mid-save).</summary>
    internal static void Save(nn.Module model, ParameterizationPlan plan, string path, optim.Optimizer? optimizer, Action<string>? afterWriting)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Parameterize.Verify(model, optimizer, plan);
        path = Path.GetFullPath(path);
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

            // Commit: the weights after the files that describe them, the manifest last.
            File.Move(planFile, PlanPath(path), overwrite: true);
            if (optimizerFile is not null)
            {
                File.Move(optimizerFile, OptimizerPath(path), overwrite: true);
            }
            else
            {
                File.Delete(OptimizerPath(path)); // a previous save's optimizer state does not belong to these weights
            }

            File.Move(weights, path, overwrite: true);
            File.Move(manifest, ManifestPath(path), overwrite: true);
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
    /// The files are checked against the manifest first. Each group keeps the plan's learning rate (the
    /// base of a schedule; TorchSharp's schedulers keep no state): set the schedule's factor for the step
    /// you resume at (<see cref="GroupLearningRates.SetFactor"/>) before the next step.
    /// </summary>
    /// <param name="model">A fresh model of the saved architecture and shape.</param>
    /// <param name="optimizer">Its optimizer, built from <c>model.parameters()</c>.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="declarations">The declarations Apply used, if any.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="FileNotFoundException">The weights, the plan, or the optimizer state the manifest lists is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not the one saved with the others (a save interrupted between its renames, or a file replaced or damaged).</exception>
    /// <exception cref="JsonException">The plan file is not a plan (the message says what and where).</exception>
    public static ParameterizationPlan Load(nn.Module model, optim.Optimizer optimizer, string path, ModelDeclarations? declarations = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        foreach (var file in new[] { path, PlanPath(path) }.Where(f => !File.Exists(f)))
        {
            throw new FileNotFoundException($"The checkpoint '{path}' is incomplete: '{file}' is missing (save with ParameterizedCheckpoint.Save).", file);
        }

        bool withOptimizer = File.Exists(OptimizerPath(path));
        if (File.Exists(ManifestPath(path)))
        {
            withOptimizer = CheckManifest(path);
        }

        var planFile = new FileInfo(PlanPath(path));
        if (planFile.Length > 4L * PlanJson.DefaultMaxLength)
        {
            throw new InvalidDataException($"'{planFile.FullName}' is {planFile.Length} bytes long, more than a plan document can be ({PlanJson.DefaultMaxLength} characters): it is not a plan.");
        }

        var plan = PlanJson.Deserialize(File.ReadAllText(planFile.FullName));
        model.load(path);
        Parameterize.Attach(model, optimizer, plan, declarations);
        if (withOptimizer)
        {
            // The saved state holds each group's learning rate at the step of the save (a schedule's value); TorchSharp's
            // schedulers keep no state, so a schedule resumes from the plan's rates, its base: keep those.
            var groups = optimizer.ParamGroups.OfType<TorchSharp.Modules.ParamGroup>().ToList();
            var rates = groups.Select(g => (g.LearningRate, g.InitialLearningRate)).ToList();
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(OptimizerPath(path));
            for (int i = 0; i < groups.Count; i++)
            {
                (groups[i].LearningRate, groups[i].InitialLearningRate) = rates[i];
            }
        }

        return plan;
    }

    /// <summary>Checks every file against the manifest; returns whether the save had an optimizer state.</summary>
    private static bool CheckManifest(string path)
    {
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(ManifestPath(path)))
                       ?? throw new InvalidDataException($"'{ManifestPath(path)}' holds null, not a checkpoint manifest.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{ManifestPath(path)}' is not a checkpoint manifest: {e.Message}", e);
        }

        if (manifest.Format != ManifestFormat || manifest.Weights is null || manifest.Plan is null)
        {
            throw new InvalidDataException($"'{ManifestPath(path)}' is not a checkpoint manifest of format {ManifestFormat}.");
        }

        var files = new List<(string File, string Hash, string What)> { (path, manifest.Weights, "weights"), (PlanPath(path), manifest.Plan, "plan") };
        if (manifest.Optimizer is { } optimizerHash)
        {
            if (!File.Exists(OptimizerPath(path)))
            {
                throw new FileNotFoundException($"The checkpoint '{path}' is incomplete: its manifest lists an optimizer state, and '{OptimizerPath(path)}' is missing.", OptimizerPath(path));
            }

            files.Add((OptimizerPath(path), optimizerHash, "optimizer state"));
        }

        var wrong = files.Where(f => Hash(f.File) != f.Hash).ToList();
        if (wrong.Count > 0)
        {
            throw new InvalidDataException(
                $"The checkpoint '{path}' is inconsistent: its {string.Join(" and ", wrong.Select(w => $"{w.What} ('{w.File}')"))} {(wrong.Count == 1 ? "is" : "are")} not the file{(wrong.Count == 1 ? string.Empty : "s")} saved with the others " +
                "(a save was interrupted between renaming its files, or a file was replaced or damaged). Resuming would mix two steps: resume from another checkpoint.");
        }

        return manifest.Optimizer is not null;
    }

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
