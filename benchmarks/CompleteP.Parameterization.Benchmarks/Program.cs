using CompleteP.Benchmarks;
using static TorchSharp.torch;

// dotnet run -c Release --project benchmarks/CompleteP.Parameterization.Benchmarks -- [apply|hooks|record|all] [--small] [--cuda]
// Prints ratios against a baseline measured in the same run; `hooks` prints two rows (folded against plain SP,
// MultiplierMode.Hooks against multipliers written into the forward).
string what = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
bool small = args.Contains("--small");
var device = args.Contains("--cuda") && cuda.is_available() ? CUDA : CPU;
Console.WriteLine($"CompleteP.Parameterization benchmarks on {device.type}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}");
if (what is "apply" or "all")
{
    ApplyBenchmark.Run(width: small ? 256 : 1024, depth: small ? 8 : 48, repeats: 3);
}

if (what is "hooks" or "all")
{
    HookBenchmark.Run(width: 256, depth: 8, batch: 16, length: 64, repeats: small ? 20 : 30, device);
}

if (what is "record" or "all")
{
    RecordingBenchmark.Run(width: 256, depth: 8, batch: 16, length: 64, repeats: small ? 20 : 30);
}
