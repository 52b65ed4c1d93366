using CompleteP.CoordinateChecks;
using FluentAssertions;
using NanoGpt;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Determinism and concurrency: the same seed gives bitwise the same initial weights and plans whatever torch's
/// process-wide generator holds; coordinate checks running in parallel, beside a thread that keeps drawing from torch's
/// generator (another test class), give the results of one check alone; Apply on models in parallel does not interfere,
/// and Apply with a base model does not move the models other threads build to the meta device. (The engine from many
/// threads: EngineRangeTests.The_engine_is_safe_to_call_from_many_threads.)
/// </summary>
public class DeterminismTests
{
    /// <summary>Keeps torch's process-wide generator busy, as another test class would, until disposed.</summary>
    private sealed class GlobalRandomNoise : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;

        public GlobalRandomNoise()
        {
            _thread = new Thread(() =>
            {
                for (ulong i = 0; !_stop.IsCancellationRequested; i++)
                {
                    manual_seed((long)(i % 1000));
                    using var _ = randn(64, 64);
                }
            });
            _thread.Start();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _stop.Dispose();
        }
    }

    private static readonly CoordinateCheckSettings Settings = new()
    {
        Parameterizations = [Parameterization.Standard, Parameterization.CompleteP],
        BaseShape = new ModelShape(16, 1),
        HeadDim = 8,
        Widths = [16, 32],
        Depths = [1, 2],
        Steps = 3,
        Seeds = [0, 1],
        Hyperparameters = new BaseHyperparameters(1e-2, 0.02),
    };

    /// <summary>A nanoGPT with a frozen position table, which Apply does not re-draw, and batches drawn from the run's seed.</summary>
    private static CoordinateCheckResult Check()
    {
        static nn.Module<Tensor, Tensor> Factory(int width, int depth)
        {
            var model = new Gpt(new GptConfig(65, 16, depth, width, 8));
            model.get_parameter("transformer.wpe.weight")!.requires_grad = false;
            return model;
        }

        static (Tensor, Tensor) Batch(int step, int seed)
        {
            var ids = Tokens(2, 16, 65, 100 * seed + step);
            return (ids, ids);
        }

        return CoordinateCheck.Run(Factory, Batch, (logits, target) => nn.functional.cross_entropy(logits.view(-1, 65), target.view(-1)), Settings);
    }

    [Fact]
    public async Task Coordinate_checks_in_parallel_beside_other_random_draws_give_the_results_of_one_check_alone()
    {
        manual_seed(123);
        var alone = Check().Measurements;

        CoordinateCheckResult[] parallel;
        using (new GlobalRandomNoise())
        {
            parallel = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(Check)));
        }

        alone.Should().NotBeEmpty();
        alone.Select(m => (m.Parameterization, m.Width, m.Depth, m.Seed)).Distinct().Should().HaveCount(3 * 3 * 2, "2 parameterizations and the depth control muP x 3 shapes x 2 seeds");
        foreach (var result in parallel)
        {
            result.Measurements.Should().Equal(alone, "a run depends on its seed alone: bit for bit the same measurements");
        }
    }

    [Fact]
    public void The_coordinate_check_runs_with_dropout_modules_off_reproducibly()
    {
        // A model with a Dropout(0.3) module measures exactly what the same model with Dropout(0) does, whatever torch's
        // process-wide generator (which dropout would draw from) holds: the check turns dropout modules off.
        List<CoordinateMeasurement> Check(double dropout, long noise)
        {
            manual_seed(noise);
            return CoordinateCheck.Run((w, d) => new LogitDropoutGpt(new Gpt(new GptConfig(65, 16, d, w, 8)), dropout),
                (step, seed) => (Tokens(2, 16, 65, seed), Tokens(2, 16, 65, seed)), (l, t) => nn.functional.cross_entropy(l.view(-1, 65), t.view(-1)), Settings).Measurements.ToList();
        }

        var without = Check(0.0, 1);
        var with = Check(0.3, 2);
        with.Should().NotBeEmpty().And.Equal(without);
        Check(0.3, 3).Should().Equal(with);
    }

    /// <summary>A nanoGPT whose logits pass through a Dropout module (a hard-coded dropout, as public models have).</summary>
    private sealed class LogitDropoutGpt : nn.Module<Tensor, Tensor>
    {
        private readonly Gpt gpt;
        private readonly TorchSharp.Modules.Dropout drop;

        public LogitDropoutGpt(Gpt inner, double p) : base(nameof(LogitDropoutGpt))
        {
            gpt = inner;
            drop = nn.Dropout(p);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids) => drop.call(gpt.call(ids));
    }

    private static (ParameterizationPlan Plan, string[] Weights) Parameterized(int constructionSeed, ulong seed, Parameterization parameterization, bool baseModel = false)
    {
        manual_seed(constructionSeed);
        using var model = BuildGpt(32, 2, headDim: 8);
        using var optimizer = optim.AdamW(model.parameters());
        using var generator = new Generator(seed);
        var options = Options(parameterization, 16, 1, 8) with { Generator = generator };
        if (baseModel)
        {
            options = options with { BaseShape = null, BaseModel = () => BuildGpt(16, 1, headDim: 8) };
        }

        var plan = Parameterize.Apply(model, optimizer, options);
        var weights = model.named_parameters().Select(p => p.name + ":" + string.Join(",", p.parameter.detach().flatten().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits))).ToArray();
        return (plan, weights);
    }

    [Fact]
    public void The_same_seed_gives_bitwise_identical_weights_and_plans_whatever_torchs_generator_holds()
    {
        var first = Parameterized(constructionSeed: 1, seed: 42, Parameterization.CompleteP);
        (ParameterizationPlan Plan, string[] Weights) second;
        using (new GlobalRandomNoise())
        {
            second = Parameterized(constructionSeed: 2, seed: 42, Parameterization.CompleteP);
        }

        second.Plan.Should().Be(first.Plan);
        PlanJson.Serialize(second.Plan).Should().Be(PlanJson.Serialize(first.Plan));
        second.Weights.Should().Equal(first.Weights, "every initial weight, bit for bit");
        Parameterized(constructionSeed: 1, seed: 43, Parameterization.CompleteP).Weights.Should().NotEqual(first.Weights, "another seed, other weights");
    }

    [Fact]
    public async Task Apply_on_models_in_parallel_does_not_interfere()
    {
        var expectedA = Parameterized(1, 7, Parameterization.CompleteP);
        var expectedB = Parameterized(2, 8, Parameterization.MuP, baseModel: true);
        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => i % 2 == 0
            ? (i, Parameterized(10 + i, 7, Parameterization.CompleteP))
            : (i, Parameterized(10 + i, 8, Parameterization.MuP, baseModel: true)))));
        foreach (var (i, result) in runs)
        {
            var expected = i % 2 == 0 ? expectedA : expectedB;
            result.Plan.Should().Be(expected.Plan, "run {0}", i);
            result.Weights.Should().Equal(expected.Weights, "run {0}", i);
        }
    }

    [Fact]
    public async Task Apply_with_a_base_model_leaves_the_models_other_threads_build_on_the_cpu()
    {
        // The base model was built with TorchSharp's default device set to meta, which is process-wide.
        using var stop = new CancellationTokenSource();
        var devices = new List<DeviceType>();
        var builder = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var model = BuildGpt(16, 1, headDim: 8);
                lock (devices)
                {
                    devices.Add(model.parameters().First().device_type);
                }
            }
        });
        for (int i = 0; i < 20; i++)
        {
            Parameterized(i, 1, Parameterization.MuP, baseModel: true);
        }

        // On a loaded machine the builder may not have run yet: let it build at least one model before stopping it.
        SpinWait.SpinUntil(() => { lock (devices) { return devices.Count > 0; } }, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await builder;
        devices.Should().NotBeEmpty().And.OnlyContain(d => d == DeviceType.CPU);
    }
}
