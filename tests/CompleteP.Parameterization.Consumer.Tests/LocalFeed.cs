using System.Reflection;
using System.Security;

namespace CompleteP.Tests.Consumer;

/// <summary>
/// A temporary folder with a local NuGet feed holding the repository's packages (the three libraries with their
/// <c>.snupkg</c> symbol packages, and the tool), packed from the build the test run already made (no build of its own),
/// under a version no earlier run used. Consumers restore through a nuget.config that adds the feed and takes every
/// other package from the user's NuGet cache (as a fallback folder, so nothing is downloaded or copied there), into a
/// packages folder of their own: the user's cache never receives the test's packages. Deleted when the tests end.
/// </summary>
public sealed class LocalFeed : IDisposable
{
    /// <summary>The projects packed, by package ID.</summary>
    public static IReadOnlyList<string> Packages { get; } =
        ["CompleteP.Parameterization", "CompleteP.Parameterization.TorchSharp", "CompleteP.Parameterization.Plotting", "CompleteP.Parameterization.Cli"];

    public LocalFeed()
    {
        RepositoryRoot = Metadata("RepositoryRoot");
        Configuration = Metadata("Configuration");
        Root = Path.Combine(Path.GetTempPath(), $"completep-consumer-{Guid.NewGuid():N}");
        Feed = Path.Combine(Root, "feed");
        PackagesFolder = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(PackagesFolder);
        Version = $"0.1.0-consumer-{Guid.NewGuid():N}"[..27];

        try
        {
            string userCache = DotnetCommand.Dotnet(RepositoryRoot, null, TimeSpan.FromMinutes(1), "nuget", "locals", "global-packages", "--list")
                .Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal))["global-packages:".Length..].Trim();
            NuGetConfig = $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="completep-local-feed" value="{SecurityElement.Escape(Feed)}" />
                  </packageSources>
                  <fallbackPackageFolders>
                    <add key="user-nuget-cache" value="{SecurityElement.Escape(userCache)}" />
                  </fallbackPackageFolders>
                </configuration>
                """;

            // One solution filter, one pack: the four projects as built by this test run (Debug or Release).
            string filter = Path.Combine(Root, "packages.slnf");
            File.WriteAllText(filter, $$"""
                { "solution": { "path": "{{Path.Combine(RepositoryRoot, "CompleteP.Parameterization.sln").Replace("\\", "/", StringComparison.Ordinal)}}",
                  "projects": [{{string.Join(", ", Packages.Select(p => $"\"src/{p}/{p}.csproj\""))}}] } }
                """);
            PackOutput = DotnetCommand.Dotnet(RepositoryRoot, null, TimeSpan.FromMinutes(5),
                "pack", filter, "-c", Configuration, "--no-build", "--no-restore", "-o", Feed, $"-p:PackageVersion={Version}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The repository's root folder.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The configuration the test run built (Debug or Release).</summary>
    public string Configuration { get; }

    /// <summary>The temporary folder holding everything; deleted at the end.</summary>
    public string Root { get; }

    /// <summary>The local feed.</summary>
    public string Feed { get; }

    /// <summary>The NuGet packages folder of the consumers (NUGET_PACKAGES).</summary>
    public string PackagesFolder { get; }

    /// <summary>The version of every package in the feed.</summary>
    public string Version { get; }

    /// <summary>A nuget.config that adds the feed and takes everything else from the user's NuGet cache.</summary>
    public string NuGetConfig { get; }

    /// <summary>What <c>dotnet pack</c> printed.</summary>
    public string PackOutput { get; }

    /// <summary>A new folder under <see cref="Root"/> holding <see cref="NuGetConfig"/>.</summary>
    public string NewFolder(string name)
    {
        string folder = Path.Combine(Root, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), NuGetConfig);
        return folder;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open (on Windows) is left in the temporary folder.
        }
    }

    private static string Metadata(string key) => typeof(LocalFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The test assembly has no {key} metadata.");
}
