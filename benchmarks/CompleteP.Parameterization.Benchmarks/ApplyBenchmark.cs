using NanoGpt;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Benchmarks;


/// <summary>
/// Parameterize.Apply on a GPT (48 blocks, width 1024 by default) against constructing that model
/// with TorchSharp's default init. Target: at most 1.5x.
/// </summary>
internal static class ApplyBenchmark
{
    public static void Run(int width, int depth, int repeats)
    {
        var config = new GptConfig(VocabSize: 50304, BlockSize: 1024, NLayer: depth, NEmbd: width, HeadDim: 64);
        long parameters = 0;
        double construct = Measure.MedianSeconds(() =>
        {
            using var model = new Gpt(config);
            parameters = model.parameters().Sum(p => p.numel());
        }, warmup: 1, repeats: repeats);

        var applyTimes = new List<double>();
        for (int i = 0; i < repeats + 1; i++)
        {
            using var model = new Gpt(config);
            using var optimizer = optim.AdamW(model.parameters());
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Parameterize.Apply(model, optimizer, new ParameterizeOptions
            {
                Parameterization = Parameterization.CompleteP,
                BaseShape = new ModelShape(256, 2),
                HeadDim = 64,
                Hyperparameters = new BaseHyperparameters(6e-3, 0.02, 0.1),
            });
            if (i > 0)
            {
                applyTimes.Add(sw.Elapsed.TotalSeconds);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        applyTimes.Sort();
        double apply = applyTimes[applyTimes.Count / 2];
        Console.WriteLine($"apply  GPT width {width}, depth {depth}, {parameters / 1e6:F0} M parameters (median of {repeats})");
        Console.WriteLine($"  construct with TorchSharp default init : {construct:F3} s");
        Console.WriteLine($"  Parameterize.Apply (CompleteP, AdamW)  : {apply:F3} s");
        Console.WriteLine($"  ratio apply / construct                : {apply / construct:F2}x   (target <= 1.50x)");
    }
}
