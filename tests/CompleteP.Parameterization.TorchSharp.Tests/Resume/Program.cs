namespace CompleteP.Tests.Adapter.Resume;

/// <summary>
/// The test assembly's entry point (the test SDK's generated one is switched off): <c>dotnet CompleteP.Parameterization.TorchSharp.Tests.dll
/// resume-helper ...</c> runs <see cref="ResumeRun"/> in a process of its own, with the natives of this build folder. The test runner never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => args is ["resume-helper", .. var rest]
        ? ResumeRun.Run(rest, Console.Out)
        : Usage();

    private static int Usage()
    {
        Console.Error.WriteLine("This is a test assembly; run it with 'dotnet test'. 'resume-helper ...' runs the resume tests' child process.");
        return 2;
    }
}
