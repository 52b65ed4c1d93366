using System.Security.Cryptography;
using System.Text.Json;

namespace CompleteP;

/// <summary>A point of <see cref="CheckpointCommit.Write"/> at which its test seam is called, with the file concerned.</summary>
internal enum CheckpointStage
{
    /// <summary>A temporary file is written and flushed to disk.</summary>
    Written,

    /// <summary>The previous save's file of a final name moved aside (<c>.prev</c>).</summary>
    MovedAside,

    /// <summary>A new file took its final name (every file but the manifest, which ends the commit).</summary>
    Committed,
}

/// <summary>
/// The file-commit protocol of a checkpoint: the files of one save (weights, plan, optimizer state, manifest of their
/// SHA-256) are written to temporary names and flushed, then committed (the previous files move aside whole, the new ones
/// take their names, the manifest last, the previous ones are deleted); reading picks the set that matches its manifest:
/// the new one, or else the previous one left by an interrupted commit; never files of two saves.
/// </summary>
internal static class CheckpointCommit
{
    private const int ManifestFormat = 1;

    /// <summary>
    /// Writes one save: <paramref name="writeWeights"/>, <paramref name="writePlan"/> and <paramref name="writeOptimizer"/> (when
    /// given) each write their file to the name they are passed; then the set is committed under <paramref name="path"/>.
    /// <paramref name="seam"/> is called at each <see cref="CheckpointStage"/> (a test seam to fail at any point of a save).
    /// </summary>
    public static void Write(string path, Action<string> writeWeights, Action<string> writePlan, Action<string>? writeOptimizer,
        Action<CheckpointStage, string>? seam)
    {
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
            string weights = Temporary(path), planFile = Temporary(ParameterizedCheckpoint.PlanPath(path));
            string? optimizerFile = writeOptimizer is null ? null : Temporary(ParameterizedCheckpoint.OptimizerPath(path));
            string manifest = Temporary(ParameterizedCheckpoint.ManifestPath(path));

            writeWeights(weights);
            Written(weights, seam);
            writePlan(planFile);
            Written(planFile, seam);
            if (optimizerFile is not null)
            {
                writeOptimizer!(optimizerFile);
                Written(optimizerFile, seam);
            }

            File.WriteAllText(manifest, JsonSerializer.Serialize(new Manifest(ManifestFormat, Hash(weights), Hash(planFile), optimizerFile is null ? null : Hash(optimizerFile))));
            Written(manifest, seam);

            // Commit. The previous files move aside first, so that a complete set stays under one of the two names at every point.
            foreach (var final in Files(path).Where(File.Exists))
            {
                File.Move(final, Previous(final), overwrite: true);
                seam?.Invoke(CheckpointStage.MovedAside, final);
            }

            Commit(planFile, ParameterizedCheckpoint.PlanPath(path), seam);
            if (optimizerFile is not null)
            {
                Commit(optimizerFile, ParameterizedCheckpoint.OptimizerPath(path), seam);
            }

            Commit(weights, path, seam);
            File.Move(manifest, ParameterizedCheckpoint.ManifestPath(path), overwrite: true);
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

    /// <summary>The set of files to load: the checkpoint's, when they match their manifest; else the previous save's, left by a commit that was interrupted.</summary>
    /// <exception cref="FileNotFoundException">The weights or the plan of a checkpoint without a manifest is missing.</exception>
    /// <exception cref="InvalidDataException">Neither set matches its manifest.</exception>
    public static CheckpointFiles Readable(string path)
    {
        bool interrupted = Files(path).Any(f => File.Exists(Previous(f)));
        string? why = null;
        if (File.Exists(ParameterizedCheckpoint.ManifestPath(path)) || interrupted)
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

        foreach (var file in new[] { path, ParameterizedCheckpoint.PlanPath(path) }.Where(f => !File.Exists(f)))
        {
            throw new FileNotFoundException($"The checkpoint '{path}' is incomplete: '{file}' is missing (save with ParameterizedCheckpoint.Save).", file);
        }

        return new CheckpointFiles(path, ParameterizedCheckpoint.PlanPath(path),
            File.Exists(ParameterizedCheckpoint.OptimizerPath(path)) ? ParameterizedCheckpoint.OptimizerPath(path) : null, null); // saved before manifests
    }

    private static string[] Files(string path) =>
        [path, ParameterizedCheckpoint.PlanPath(path), ParameterizedCheckpoint.OptimizerPath(path), ParameterizedCheckpoint.ManifestPath(path)];

    private static string Previous(string file) => file + ".prev";

    private static CheckpointFiles Primary(string path) =>
        new(path, ParameterizedCheckpoint.PlanPath(path), ParameterizedCheckpoint.OptimizerPath(path), ParameterizedCheckpoint.ManifestPath(path));

    /// <summary>The previous save's files during a commit: each moved aside (<c>.prev</c>) or not yet.</summary>
    private static CheckpointFiles Earlier(string path)
    {
        string Pick(string file) => File.Exists(Previous(file)) ? Previous(file) : file;
        return new CheckpointFiles(Pick(path), Pick(ParameterizedCheckpoint.PlanPath(path)), Pick(ParameterizedCheckpoint.OptimizerPath(path)),
            Pick(ParameterizedCheckpoint.ManifestPath(path)));
    }

    /// <summary>The set, with the optimizer state only if the manifest lists one, when every file exists and matches the manifest; else null and why.</summary>
    private static CheckpointFiles? Consistent(CheckpointFiles files, out string? why)
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

    private static void Commit(string temporary, string final, Action<CheckpointStage, string>? seam)
    {
        File.Move(temporary, final, overwrite: true);
        seam?.Invoke(CheckpointStage.Committed, final);
    }

    private static void Written(string file, Action<CheckpointStage, string>? seam)
    {
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            stream.Flush(flushToDisk: true); // on disk before the rename makes it the checkpoint
        }

        seam?.Invoke(CheckpointStage.Written, file);
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

/// <summary>The files of one save: weights, plan, optimizer state (null when the save had none), manifest (null for a checkpoint from before manifests).</summary>
internal sealed record CheckpointFiles(string Weights, string Plan, string? Optimizer, string? Manifest);
