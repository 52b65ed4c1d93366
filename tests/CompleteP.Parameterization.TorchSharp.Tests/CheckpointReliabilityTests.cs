using System.Diagnostics;
using System.Text.Json;
using CompleteP.Tests.Adapter.Resume;
using FluentAssertions;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Checkpoints under faults: a save that fails while writing, or is killed at any rename of its commit, leaves the previous
/// checkpoint readable (and the next save cleans up); files of two saves mixed and damaged files are refused on Load; a
/// process killed while it saves again and again leaves a checkpoint that loads; and a run resumed in a new process
/// reproduces the uninterrupted run's losses step for step for AdamW, Adam, SGD (SP) and FlatAdamW.
/// </summary>
public class CheckpointReliabilityTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("completep-checkpoints-").FullName;

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static (NanoGpt.Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Trained(int steps)
    {
        manual_seed(3);
        var model = BuildGpt(32, 2, headDim: 8);
        var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 16, 1, 8));
        var ids = Tokens(2, 16, 65, 1);
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            model.Loss(ids, ids).backward();
            optimizer.step();
        }

        return (model, optimizer, plan);
    }

    private static long StepOf(optim.Optimizer optimizer) => ((AdamW.State)((OptimizerHelper)optimizer).state_dict().State[0]).step;

    private static (ParameterizationPlan Plan, optim.Optimizer Optimizer, NanoGpt.Gpt Model) Load(string path)
    {
        manual_seed(77);
        var model = BuildGpt(32, 2, headDim: 8);
        var optimizer = optim.AdamW(model.parameters());
        return (ParameterizedCheckpoint.Load(model, optimizer, path), optimizer, model);
    }

    [Fact]
    public void A_save_that_fails_mid_write_leaves_the_previous_checkpoint_readable()
    {
        string path = Path.Combine(_folder, "run.bin");
        var (model, optimizer, plan) = Trained(steps: 1);
        ParameterizedCheckpoint.Save(model, plan, path, optimizer);
        var saved = File.ReadAllBytes(path);
        using var ids = Tokens(2, 16, 65, 2);
        using var expected = model.call(ids).detach().clone();

        // Two more steps, then a save that dies after writing each of its files in turn (the disk fills, the process is killed).
        var ids2 = Tokens(2, 16, 65, 1);
        for (int i = 0; i < 2; i++)
        {
            optimizer.zero_grad();
            model.Loss(ids2, ids2).backward();
            optimizer.step();
        }

        foreach (string failAt in new[] { ".bin.tmp-", ".plan.json.tmp-", ".optim.tmp-", ".checkpoint.json.tmp-" })
        {
            var act = () => ParameterizedCheckpoint.Save(model, plan, path, optimizer,
                seam: (stage, file) => { if (stage == CheckpointStage.Written && file.Contains(failAt, StringComparison.Ordinal)) throw new IOException($"simulated failure after writing {file}"); });
            act.Should().Throw<IOException>().WithMessage("simulated failure*");

            File.ReadAllBytes(path).Should().Equal(saved, "the weights file is the previous save's, untouched ({0})", failAt);
            Directory.GetFiles(_folder).Select(Path.GetFileName).Should().BeEquivalentTo(["run.bin", "run.bin.plan.json", "run.bin.optim", "run.bin.checkpoint.json"],
                "no temporary file is left behind ({0})", failAt);
            var (loaded, loadedOptimizer, fresh) = Load(path);
            using (fresh)
            {
                loaded.Should().Be(plan);
                StepOf(loadedOptimizer).Should().Be(1, "the optimizer state is the previous save's");
                using var noGrad = no_grad();
                (fresh.call(ids) - expected).abs().max().item<float>().Should().Be(0, "the previous save's weights, bit for bit");
            }
        }

        ParameterizedCheckpoint.Save(model, plan, path, optimizer);
        var (_, latest, latestModel) = Load(path);
        using (latestModel)
        {
            StepOf(latest).Should().Be(3, "a save that completes replaces the checkpoint");
        }
    }

    [Fact]
    public void A_save_interrupted_while_committing_leaves_the_previous_checkpoint_readable()
    {
        string path = Path.Combine(_folder, "commit.bin");
        var files = new[] { path, ParameterizedCheckpoint.PlanPath(path), ParameterizedCheckpoint.OptimizerPath(path), ParameterizedCheckpoint.ManifestPath(path) };
        var stages = files.Select(f => (Stage: CheckpointStage.MovedAside, File: f)).Concat(files.SkipLast(1).Select(f => (Stage: CheckpointStage.Committed, File: f))).ToList();
        foreach (var killAfter in stages)
        {
            var (model, optimizer, plan) = Trained(steps: 1);
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            var ids = Tokens(2, 16, 65, 1);
            optimizer.zero_grad();
            model.Loss(ids, ids).backward();
            optimizer.step();

            // Killed after this rename of the commit: the previous files aside one by one, then the new ones taking their names.
            var act = () => ParameterizedCheckpoint.Save(model, plan, path, optimizer,
                seam: (stage, file) => { if ((stage, file) == killAfter) throw new IOException($"simulated kill after {stage} {file}"); });
            act.Should().Throw<IOException>();

            var (loaded, loadedOptimizer, fresh) = Load(path);
            using (fresh)
            {
                loaded.Should().Be(plan);
                StepOf(loadedOptimizer).Should().Be(1, "until the new manifest takes its name, the previous save is the complete one ({0})", killAfter);
            }

            // The next save puts the interrupted commit right, and then holds the newest state.
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            var (_, latest, latestModel) = Load(path);
            using (latestModel)
            {
                StepOf(latest).Should().Be(2);
            }

            Directory.GetFiles(_folder).Should().NotContain(f => f.EndsWith(".prev", StringComparison.Ordinal) || f.Contains(".tmp-", StringComparison.Ordinal));
            model.Dispose();
        }
    }

    [Fact]
    public void Files_of_two_saves_are_refused_on_load()
    {
        // What a kill between the renames leaves: the optimizer state of one save beside the weights of another.
        string a = Path.Combine(_folder, "a.bin"), b = Path.Combine(_folder, "b.bin");
        var (model, optimizer, plan) = Trained(steps: 1);
        ParameterizedCheckpoint.Save(model, plan, a, optimizer);
        var ids = Tokens(2, 16, 65, 1);
        optimizer.zero_grad();
        model.Loss(ids, ids).backward();
        optimizer.step();
        ParameterizedCheckpoint.Save(model, plan, b, optimizer);
        File.Copy(ParameterizedCheckpoint.OptimizerPath(b), ParameterizedCheckpoint.OptimizerPath(a), overwrite: true);

        var act = () => Load(a);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("is inconsistent").And.Contain("optimizer state").And.Contain("would mix two steps")
            .And.Contain("no complete previous save");

        // A damaged weights file is refused before TorchSharp reads it.
        File.WriteAllBytes(b, File.ReadAllBytes(b)[..100]);
        ((Action)(() => Load(b))).Should().Throw<InvalidDataException>().Which.Message.Should().Contain("weights");
    }

    [Fact]
    public void A_damaged_plan_file_is_refused_with_what_and_where()
    {
        string path = Path.Combine(_folder, "p.bin");
        var (model, optimizer, plan) = Trained(steps: 0);
        ParameterizedCheckpoint.Save(model, plan, path, optimizer);
        File.Delete(ParameterizedCheckpoint.ManifestPath(path)); // a checkpoint saved before manifests existed
        string json = File.ReadAllText(ParameterizedCheckpoint.PlanPath(path));
        File.WriteAllText(ParameterizedCheckpoint.PlanPath(path), json.Replace("\"hiddenWeight\"", "\"hidden\"", StringComparison.Ordinal));
        ((Action)(() => Load(path))).Should().Throw<JsonException>().Which.Message.Should().Contain("rule.role").And.Contain("'hidden' is not a TensorRole");
    }

    private static Process Helper(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add("resume-helper");
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start)!;
    }

    private static string[] RunHelper(params string[] arguments)
    {
        using var process = Helper(arguments);
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit(300_000).Should().BeTrue("the helper finishes");
        process.ExitCode.Should().Be(0, error.Result);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [Fact]
    public void Resuming_in_a_new_process_reproduces_the_uninterrupted_losses_step_for_step_for_every_optimizer()
    {
        var uninterrupted = RunHelper("train", _folder);
        var resumed = RunHelper("resume", _folder);

        uninterrupted.Should().HaveCount(ResumeRun.Optimizers.Length * ResumeRun.Steps);
        foreach (var kind in ResumeRun.Optimizers)
        {
            var tail = uninterrupted.Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).Skip(ResumeRun.SaveAt).ToList();
            var again = resumed.Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).ToList();
            again.Should().Equal(tail, "{0}: steps {1} to {2} after loading the checkpoint in a new process give the same losses, bit for bit", kind, ResumeRun.SaveAt, ResumeRun.Steps - 1);
            tail.Select(l => l.Split(' ')[2]).Distinct().Should().HaveCount(tail.Count, "{0} trains (the losses change)", kind);
        }
    }

    [Fact]
    public void A_process_killed_while_saving_leaves_a_checkpoint_that_loads()
    {
        string path = Path.Combine(_folder, "loop.bin");
        var random = new Random(5);
        int loaded = 0;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            using var process = Helper("save-loop", path);
            _ = process.StandardError.ReadToEndAsync();
            string? line;
            while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("saved 1", StringComparison.Ordinal))
            {
            }

            line.Should().NotBeNull("the helper saved at least twice");
            Thread.Sleep(random.Next(5, 150)); // somewhere inside the next save, most likely while writing
            process.Kill(entireProcessTree: true);
            process.WaitForExit();

            manual_seed(1);
            using var model = new NanoGpt.Gpt(new NanoGpt.GptConfig(65, 16, 4, 128, 8));
            using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
            // Killed while writing, the previous checkpoint is untouched; killed while committing, the set that is complete is read.
            var plan = ParameterizedCheckpoint.Load(model, optimizer, path);
            plan.Setup.Target.Should().Be(new ModelShape(128, 4));
            StepOf(optimizer).Should().BeGreaterThan(0);
            loaded++;
        }

        loaded.Should().Be(2);

        // The next save removes the temporary files a killed save left.
        manual_seed(1);
        using var again = new NanoGpt.Gpt(new NanoGpt.GptConfig(65, 16, 4, 128, 8));
        using var againOptimizer = optim.AdamW(again.parameters(), lr: 1e-3);
        var loadedPlan = ParameterizedCheckpoint.Load(again, againOptimizer, path);
        ParameterizedCheckpoint.Save(again, loadedPlan, path, againOptimizer);
        Directory.GetFiles(_folder).Should().NotContain(f => f.Contains(".tmp-", StringComparison.Ordinal));
    }
}
