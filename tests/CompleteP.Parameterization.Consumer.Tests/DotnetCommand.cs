using System.Diagnostics;
using System.Text;

namespace CompleteP.Tests.Consumer;

/// <summary>
/// Runs <c>dotnet</c> (or a program it installed) as a user's shell would: without the MSBuild and test-host
/// variables of the test run, without build servers or reused MSBuild nodes (which would outlive the test), and
/// with its own NuGet packages folder.
/// </summary>
internal static class DotnetCommand
{
    /// <summary>The dotnet host that runs the tests.</summary>
    public static string Host { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs a program to its end; throws (with everything it printed) when it fails or overruns.</summary>
    /// <param name="program">The program (<see cref="Host"/> for dotnet).</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="packagesFolder">The NuGet packages folder it uses (NUGET_PACKAGES); null keeps the user's.</param>
    /// <param name="timeout">How long it may take.</param>
    /// <returns>Standard output and standard error, interleaved as they arrived.</returns>
    /// <exception cref="InvalidOperationException">It exited with a code other than 0, or ran past the timeout (then it is killed).</exception>
    public static string Run(string program, IEnumerable<string> arguments, string workingDirectory, string? packagesFolder, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase) || key.Equals("NUGET_PACKAGES", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";
        if (packagesFolder is not null)
        {
            start.Environment["NUGET_PACKAGES"] = packagesFolder;
        }

        var text = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(text, e.Data);
        process.ErrorDataReceived += (_, e) => Append(text, e.Data);
        var clock = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new InvalidOperationException($"'{Describe(program, arguments)}' ran past {timeout.TotalSeconds:F0} s and was stopped. It printed:\n{Text(text)}");
        }

        process.WaitForExit();
        string output = Text(text);
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"'{Describe(program, arguments)}' exited with {process.ExitCode} after {clock.Elapsed.TotalSeconds:F0} s. It printed:\n{output}");
    }

    /// <summary>Runs <c>dotnet</c> with the given arguments.</summary>
    public static string Dotnet(string workingDirectory, string? packagesFolder, TimeSpan timeout, params string[] arguments) =>
        Run(Host, arguments, workingDirectory, packagesFolder, timeout);

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string Describe(string program, IEnumerable<string> arguments) => $"{Path.GetFileName(program)} {string.Join(' ', arguments)}";
}
