using Xunit;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// The test classes that change a process-wide torch setting (the number of CPU threads, <c>torch.set_num_threads</c>)
/// run alone, after every parallel test, and put the setting back. A change of the thread count changes how torch splits
/// a reduction into chunks, and so the last bits of a float sum: a test that compares two runs bit for bit (the
/// determinism tests) fails when another class changes the count between or during its runs (CI did, on 2 cores).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTorchSettings
{
    /// <summary>The collection's name, for <c>[Collection(ProcessWideTorchSettings.Name)]</c>.</summary>
    public const string Name = "Process-wide torch settings";

    /// <summary>Runs <paramref name="action"/> and restores torch's CPU thread count, whatever it set.</summary>
    public static T KeepingThreadCount<T>(Func<T> action)
    {
        int threads = TorchSharp.torch.get_num_threads();
        try
        {
            return action();
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }
}
