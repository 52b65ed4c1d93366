using CompleteP.CoordinateChecks;
using NanoGpt;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Benchmarks;


/// <summary>
/// A training step of a CompleteP GPT with the coordinate check's recording hooks on, against the same
/// step with them off. Target: at most 1.1x.
/// </summary>
internal static class RecordingBenchmark
{
    public static void Run(int width, int depth, int batch, int length, int repeats)
    {
        manual_seed(0);
        var model = new Gpt(new GptConfig(VocabSize: 65, BlockSize: length, NLayer: depth, NEmbd: width, HeadDim: 32));
        var optimizer = optim.AdamW(model.parameters());
        Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = Parameterization.CompleteP,
            BaseShape = new ModelShape(64, 2),
            HeadDim = 32,
            Hyperparameters = new BaseHyperparameters(1e-3, 0.02),
        });
        var modules = CoordinateCheck.RecordableModules(model);
        var recorder = new ActivationRecorder(modules, "completep", width, depth, 0);
        var x = randint(0, 65, [batch, length], dtype: ScalarType.Int64);
        int step = 0;

        void Step(bool record)
        {
            recorder.Step = record ? ++step : 0;
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(x).view(-1, 65), x.view(-1)).backward();
            optimizer.step();
        }

        var (on, off) = Measure.Interleaved(() => Step(record: true), () => Step(record: false), warmup: 2, repeats: repeats);
        Console.WriteLine($"record GPT width {width}, depth {depth}, batch {batch}x{length}, {modules.Count} modules recorded (median of {repeats} interleaved steps)");
        Console.WriteLine($"  recording off : {off * 1000:F1} ms/step");
        Console.WriteLine($"  recording on  : {on * 1000:F1} ms/step ({recorder.Measurements.Count} measurements)");
        Console.WriteLine($"  ratio on / off: {on / off:F3}x   (target <= 1.10x)");
        recorder.Dispose();
    }
}
