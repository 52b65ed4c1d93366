using System.Globalization;
using CompleteP.Optimizers;
using NanoGpt;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Resume;

/// <summary>
/// The training the resume tests run in child processes (this test assembly started with <c>resume-helper</c>, see
/// <see cref="Program"/>): a small nanoGPT, for each optimizer the library regroups or provides (AdamW, Adam, SGD under SP,
/// FlatAdamW), trained with a warm-up + cosine schedule (<see cref="GroupLearningRates"/>) and fold-aware clipping, on batches
/// that depend on the step only. <c>train</c> runs every step and saves a checkpoint before step <see cref="SaveAt"/>;
/// <c>resume</c> loads it into a fresh model and optimizer and runs the remaining steps. Each prints
/// <c>optimizer step loss</c> lines, the loss as the exact float. <c>save-loop</c> saves a larger model again and again, for
/// the test that kills it mid-save.
/// </summary>
public static class ResumeRun
{
    public const int Steps = 8;
    public const int SaveAt = 4;

    public static readonly string[] Optimizers = ["adamw", "adam", "sgd", "flat-adamw"];

    public static int Run(string[] args, TextWriter output)
    {
        set_num_threads(1);
        switch (args)
        {
            case ["train", var folder]:
                foreach (var kind in Optimizers)
                {
                    Train(kind, folder, output);
                }

                return 0;
            case ["resume", var folder]:
                foreach (var kind in Optimizers)
                {
                    Resume(kind, folder, output);
                }

                return 0;
            case ["save-loop", var path]:
                SaveLoop(path, output);
                return 0;
            default:
                output.WriteLine("usage: resume-helper train|resume <folder> | save-loop <path>");
                return 2;
        }
    }

    public static string CheckpointPath(string folder, string kind) => Path.Combine(folder, kind + ".bin");

    private static Gpt Model(int seed, int width = 32, int depth = 2)
    {
        manual_seed(seed); // the constructor's draws: different in the resuming process, and overwritten by Apply or Load
        return new Gpt(new GptConfig(65, 16, depth, width, 8));
    }

    private static optim.Optimizer Optimizer(string kind, Gpt model) => kind switch
    {
        "adamw" => optim.AdamW(model.parameters(), lr: 1e-2, beta1: 0.9, beta2: 0.95, weight_decay: 0.1),
        "adam" => optim.Adam(model.parameters(), lr: 1e-2, beta1: 0.9, beta2: 0.95),
        "sgd" => optim.SGD(model.parameters(), learningRate: 0.1, momentum: 0.9, nesterov: true),
        _ => new FlatAdamW(model.parameters(), lr: 1e-2, beta1: 0.9, beta2: 0.95, weight_decay: 0.1),
    };

    private static ParameterizeOptions Options(string kind, Generator generator) => new()
    {
        Parameterization = kind == "sgd" ? Parameterization.Standard : Parameterization.CompleteP,
        BaseShape = new ModelShape(16, 1),
        HeadDim = 8,
        Hyperparameters = new BaseHyperparameters(1e-2, 0.02, 0.1, 1e-8),
        Generator = generator,
    };

    private static float Step(string kind, Gpt model, optim.Optimizer optimizer, ParameterizationPlan plan, GroupLearningRates lrs, int step)
    {
        using var scope = NewDisposeScope();
        lrs.SetFactor(GroupLearningRates.WarmupCosine(step, warmupSteps: 2, totalSteps: Steps, finalFactor: 0.1));
        var ids = TestSupport.Tokens(4, 16, 65, 1000 + step);
        optimizer.zero_grad();
        var loss = model.Loss(ids, ids);
        loss.backward();
        if (kind is "adamw" or "adam")
        {
            ParameterizedGradients.ClipGradNorm(model, plan, 0.5);
        }

        optimizer.step();
        return loss.item<float>();
    }

    private static void Print(TextWriter output, string kind, int step, float loss) =>
        output.WriteLine($"{kind} {step} {loss.ToString("R", CultureInfo.InvariantCulture)}");

    private static void Train(string kind, string folder, TextWriter output)
    {
        using var model = Model(seed: 1);
        using var optimizer = Optimizer(kind, model);
        using var generator = new Generator(7);
        var plan = Parameterize.Apply(model, optimizer, Options(kind, generator));
        if (optimizer is FlatAdamW flat)
        {
            flat.SetGradientClipping(0.5, model, plan);
        }

        var lrs = new GroupLearningRates(optimizer);
        for (int step = 0; step < Steps; step++)
        {
            if (step == SaveAt)
            {
                ParameterizedCheckpoint.Save(model, plan, CheckpointPath(folder, kind), optimizer);
            }

            Print(output, kind, step, Step(kind, model, optimizer, plan, lrs, step));
        }
    }

    private static void Resume(string kind, string folder, TextWriter output)
    {
        using var model = Model(seed: 999);
        using var optimizer = Optimizer(kind, model);
        var plan = ParameterizedCheckpoint.Load(model, optimizer, CheckpointPath(folder, kind));
        if (optimizer is FlatAdamW flat)
        {
            flat.SetGradientClipping(0.5, model, plan);
        }

        // Load leaves each group at the plan's learning rate, the base the schedule multiplies.
        var lrs = new GroupLearningRates(optimizer);
        for (int step = SaveAt; step < Steps; step++)
        {
            Print(output, kind, step, Step(kind, model, optimizer, plan, lrs, step));
        }
    }

    /// <summary>Saves a 0.8 M-parameter model to one path again and again, one AdamW step between saves, until killed.</summary>
    private static void SaveLoop(string path, TextWriter output)
    {
        using var model = Model(seed: 1, width: 128, depth: 4);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
        using var generator = new Generator(7);
        var plan = Parameterize.Apply(model, optimizer, Options("adamw", generator) with { BaseShape = new ModelShape(64, 2) });
        var lrs = new GroupLearningRates(optimizer);
        for (int i = 0; ; i++)
        {
            Step("adamw", model, optimizer, plan, lrs, i % Steps);
            ParameterizedCheckpoint.Save(model, plan, path, optimizer);
            output.WriteLine($"saved {i}");
            output.Flush();
        }
    }
}
