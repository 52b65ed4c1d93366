using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace CompleteP.Tests.Consumer;

/// <summary>
/// The packages as a user meets them: symbol packages beside the libraries, a thin tool, the README's one-call
/// example compiled in a fresh console project against the adapter package (one AdamW step, one coordinate-check
/// assertion), and the tool installed from the feed.
/// </summary>
public class ConsumerPackageTests : IClassFixture<LocalFeed>
{
    private static readonly TimeSpan Minutes5 = TimeSpan.FromMinutes(5);

    private readonly LocalFeed _feed;
    private readonly ITestOutputHelper _output;

    public ConsumerPackageTests(LocalFeed feed, ITestOutputHelper output)
    {
        _feed = feed;
        _output = output;
    }

    private string Package(string id, string extension = "nupkg") => Path.Combine(_feed.Feed, $"{id}.{_feed.Version}.{extension}");

    private static List<string> Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    private static XElement Nuspec(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream).Root!;
    }

    private string Step(string what, Func<string> run)
    {
        var clock = Stopwatch.StartNew();
        string printed = run();
        _output.WriteLine($"{what}: {clock.Elapsed.TotalSeconds:F1} s");
        return printed;
    }

    [Fact]
    public void Every_package_has_its_symbol_package_no_made_up_url_and_the_tool_package_is_thin()
    {
        foreach (var id in LocalFeed.Packages)
        {
            string package = Package(id), symbols = Package(id, "snupkg");
            File.Exists(package).Should().BeTrue($"{id} is packed:\n{_feed.PackOutput}");
            File.Exists(symbols).Should().BeTrue($"{id} has a symbol package");
            _output.WriteLine($"{id}: {new FileInfo(package).Length / 1024.0:F0} KiB, symbols {new FileInfo(symbols).Length / 1024.0:F0} KiB");
            Entries(symbols).Should().Contain(e => e.EndsWith(".pdb", StringComparison.Ordinal), $"{id}'s symbol package holds its PDBs");
            var metadata = Nuspec(package).Elements().Single(e => e.Name.LocalName == "metadata");
            metadata.Elements().Select(e => e.Name.LocalName).Should().NotContain("projectUrl", "no project URL until the repository is published");
        }

        foreach (var library in new[] { "CompleteP.Parameterization", "CompleteP.Parameterization.TorchSharp", "CompleteP.Parameterization.Plotting" })
        {
            Entries(Package(library, "snupkg")).Should().Contain([$"lib/net8.0/{library}.pdb", $"lib/net10.0/{library}.pdb"]);
        }

        Entries(Package("CompleteP.Parameterization.TorchSharp")).Should().Contain(
            ["build/CompleteP.Parameterization.TorchSharp.targets", "buildTransitive/CompleteP.Parameterization.TorchSharp.targets"],
            "the adapter brings the GLIBCXX fix into its consumers' builds");

        string tool = Package("CompleteP.Parameterization.Cli");
        new FileInfo(tool).Length.Should().BeLessThan(5L << 20, "the tool needs no TorchSharp, libtorch or plotting");
        var entries = Entries(tool);
        entries.Should().Contain("tools/net10.0/any/completep.dll", "one framework-dependent build for every platform");
        entries.Should().NotContain(e => e.StartsWith("runtimes/", StringComparison.Ordinal) || e.Contains("/runtimes/", StringComparison.Ordinal), "no platform-specific assets");
        entries.Select(e => Path.GetFileName(e).ToLowerInvariant()).Should().NotContain(name =>
            name.StartsWith("torchsharp", StringComparison.Ordinal) || name.StartsWith("libtorch", StringComparison.Ordinal) || name.StartsWith("scottplot", StringComparison.Ordinal)
            || name.StartsWith("skiasharp", StringComparison.Ordinal) || name.StartsWith("harfbuzz", StringComparison.Ordinal) || name.StartsWith("nanogpt", StringComparison.Ordinal)
            || name.StartsWith("completep.parameterization.torchsharp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fresh_console_project_runs_the_readme_example_one_adamw_step_and_a_coordinate_check()
    {
        string app = _feed.NewFolder("app");
        string packages = _feed.PackagesFolder;
        Step("dotnet new console", () => DotnetCommand.Dotnet(app, packages, Minutes5, "new", "console", "-n", "Consumer", "-o", ".", "--no-restore", "--no-update-check"));
        Step("dotnet add package (adapter)", () => DotnetCommand.Dotnet(app, packages, Minutes5,
            "add", "package", "CompleteP.Parameterization.TorchSharp", "--version", _feed.Version, "--no-restore"));
        Step("dotnet add package (libtorch)", () => DotnetCommand.Dotnet(app, packages, Minutes5,
            "add", "package", "libtorch-cpu-linux-x64", "--version", "2.10.0", "--no-restore"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "ConsumerApp", "Program.cs"), Path.Combine(app, "Program.cs"), overwrite: true);

        string build = Step("dotnet build", () => DotnetCommand.Dotnet(app, packages, Minutes5, "build", "-warnaserror", "-nodeReuse:false"));
        foreach (var line in build.Split('\n').Where(l => l.Contains("LibTorchSharpGlibcxxFix", StringComparison.Ordinal)))
        {
            _output.WriteLine(line.Trim());
        }

        string printed = Step("run", () => DotnetCommand.Run(DotnetCommand.Host, [Path.Combine(app, "bin", "Debug", "net10.0", "Consumer.dll")], app, packages, Minutes5));

        string Value(string key) => printed.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(key + ": ", StringComparison.Ordinal))[(key.Length + 2)..];
        double Number(string key) => double.Parse(Value(key), CultureInfo.InvariantCulture);
        Value("parameters").Should().Be("53", "wte, wpe, 4 blocks of 12 tensors, ln_f (2) and lm_head");
        Value("plan rows").Should().Be("53", "the plan has one row per parameter");
        Number("hidden lr").Should().BeApproximately(6e-3 / 2, 1e-15, "eta * m_N^-1 * m_L^0 with m_N = 64 / 32");
        Number("loss before").Should().BeApproximately(Math.Log(32), 0.05, "with std-0.02 weights the logits start near 0: cross-entropy ln(vocab)");
        Number("gradient norm").Should().BeGreaterThan(0, "the fold-aware clipping measured the unfolded model's gradient norm");
        Number("loss after").Should().BeLessThan(Number("loss before"), "one AdamW step lowers the loss on its own batch");
        Value("coordinate check").Should().Be("passed");
        printed.Should().Contain("h.0.mlp.c_fc.weight").And.Contain("eta * m_N^-1 * m_L^(alpha-1)", "the plan table is printed with formulas");
    }

    [Fact]
    public void The_tool_installs_from_the_feed_and_runs_without_libtorch()
    {
        string folder = _feed.NewFolder("tool");
        string tools = Path.Combine(_feed.Root, "tools");
        Step("dotnet tool install", () => DotnetCommand.Dotnet(folder, _feed.PackagesFolder, Minutes5,
            "tool", "install", "--tool-path", tools, "--add-source", _feed.Feed, "CompleteP.Parameterization.Cli", "--version", _feed.Version));
        string completep = Path.Combine(tools, OperatingSystem.IsWindows() ? "completep.exe" : "completep");

        string plan = Step("completep plan", () => DotnetCommand.Run(completep, [
            "plan", "--parameterization", "completep", "--base-width", "256", "--width", "2048", "--base-depth", "2", "--depth", "48",
            "--head-dim", "64", "--lr", "6e-3", "--init-std", "0.02", "--weight-decay", "0.1", "--eps", "1e-8", "--format", "markdown"], folder, null, Minutes5));
        plan.Should().Contain("| hidden weight | learning rate | 0.00075 | `eta * m_N^-1 * m_L^(alpha-1)` | `0.006 * 8^-1 * 24^0` |")
            .And.Contain("| model | residual multiplier | 0.0416667 |");

        string explain = DotnetCommand.Run(completep, ["explain", "hidden-weight", "-q", "learning-rate", "-p", "completep", "--base-width", "256", "--width", "2048",
            "--base-depth", "2", "--depth", "48", "--lr", "6e-3"], folder, null, Minutes5);
        explain.Should().Contain("hidden-weight: learning rate = 0.00075");

        Directory.EnumerateFiles(tools, "*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f).ToLowerInvariant())
            .Should().NotContain(name => name.StartsWith("libtorch", StringComparison.Ordinal) || name.StartsWith("torchsharp", StringComparison.Ordinal),
                "the installed tool carries no TorchSharp");
    }
}
