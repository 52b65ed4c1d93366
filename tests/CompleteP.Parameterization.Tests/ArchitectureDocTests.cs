using System.Text.RegularExpressions;
using FluentAssertions;

namespace CompleteP.Tests.Engine;

/// <summary>
/// docs/architecture.md stays true to the code: every type it names in backticks (<c>`PlanRow`</c>, <c>`PlanRow.Applied`</c>,
/// <c>`RulesEngine.Compute(...)`</c>) is declared in src/ (or, for a test class, tests/) with the members it names, and every file or folder it names
/// (<c>`src/.../Checkpoints/`</c>, <c>`RuleRange.cs`</c>, <c>`Apply/`</c>) exists.
/// </summary>
public sealed partial class ArchitectureDocTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Every_type_and_member_named_in_backticks_exists()
    {
        var sources = new[] { "src", "tests" }.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText).ToList();
        var names = Spans().Select(s => CallSuffix().Replace(s, string.Empty)).Where(s => TypeName().IsMatch(s)).Distinct().ToList();
        names.Should().Contain(["ParameterizationPlan", "PlanRow.Applied", "RulesEngine.Compute"], "the doc names the plan, its rows and the engine");

        var missing = new List<string>();
        foreach (string name in names)
        {
            string[] parts = name.Split('.');
            var declaring = sources.Where(s => Regex.IsMatch(s, $@"\b(class|record|struct|enum|interface)\s+{parts[0]}\b")).ToList();
            if (declaring.Count == 0)
            {
                missing.Add($"`{name}`: no type {parts[0]} is declared in src/ or tests/");
            }
            else if (parts.Skip(1).FirstOrDefault(m => !declaring.Any(s => Regex.IsMatch(s, $@"\b{m}\b"))) is { } member)
            {
                missing.Add($"`{name}`: {parts[0]} has no member {member}");
            }
        }

        missing.Should().BeEmpty("docs/architecture.md names only types and members that exist");
    }

    [Fact]
    public void Every_file_and_folder_named_in_backticks_exists()
    {
        var paths = Spans().Where(s => !s.Contains(' ', StringComparison.Ordinal) && (s.Contains('/', StringComparison.Ordinal) || FileName().IsMatch(s))).Distinct().ToList();
        paths.Should().Contain("src/CompleteP.Parameterization.TorchSharp/Apply/", "the doc names the folders");

        var everything = Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => !p.StartsWith(".git", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal) && !p.Contains("/bin/", StringComparison.Ordinal))
            .ToList();
        var missing = paths.Where(p =>
        {
            string trimmed = p.TrimEnd('/');
            // A path from the repository's root, or a folder or file name (Apply/, RuleRange.cs) that some path ends with.
            return !everything.Contains(trimmed) && !everything.Any(e => e.EndsWith("/" + trimmed, StringComparison.Ordinal));
        }).ToList();

        missing.Should().BeEmpty("docs/architecture.md names only files and folders that exist");
    }

    private static IEnumerable<string> Spans() =>
        Backticks().Matches(File.ReadAllText(Path.Combine(Root, "docs", "architecture.md"))).Select(m => m.Groups[1].Value);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CompleteP.Parameterization.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder above {AppContext.BaseDirectory} holds CompleteP.Parameterization.sln.");
    }

    [GeneratedRegex("`([^`\n]+)`")]
    private static partial Regex Backticks();

    /// <summary>A type or a type's member: <c>PlanRow</c>, <c>TensorRule.Folded</c>.</summary>
    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$")]
    private static partial Regex TypeName();

    /// <summary>A call's argument list: <c>Apply(model, optimizer, options)</c> names <c>Apply</c>.</summary>
    [GeneratedRegex(@"\(.*\)$")]
    private static partial Regex CallSuffix();

    [GeneratedRegex(@"^[\w.-]+\.(cs|md|json|csproj)$")]
    private static partial Regex FileName();
}
