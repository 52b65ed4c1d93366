using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;
using static CompleteP.Tests.Cli.Completep;

namespace CompleteP.Tests.Cli;

/// <summary>
/// docs/results.md quotes analyze-sweep: each table between its markers must be exactly what the command prints for the
/// committed CSV today, so an edited number, a CSV changed without refreshing the page, or a change to the analysis shows.
/// </summary>
public class ResultsPageTests
{
    [Theory]
    [InlineData("depth-table", "docs/results/lr-sweep-depth-laptop.csv")]
    [InlineData("depth-reference-table", "docs/results/lr-sweep-depth-reference.csv")]
    [InlineData("width-table", "docs/results/lr-sweep-width-laptop.csv")]
    [InlineData("width-reference-table", "docs/results/lr-sweep-width-reference.csv")]
    [InlineData("paper-width-table", "docs/results/lr-sweep-width.csv")]
    [InlineData("batch-table", "docs/results/batch-transfer.csv")]
    [InlineData("length-table", "docs/results/length-transfer.csv")]
    [InlineData("hp-table", "docs/results/hp-search.csv")]
    public void Every_table_on_the_results_page_is_analyze_sweeps_output_for_its_committed_csv(string marker, string csv)
    {
        string page = File.ReadAllText(RepositoryFile("docs/results.md"));
        var match = Regex.Match(page, $"<!-- {Regex.Escape(marker)} -->\n(.*?)\n<!-- /{Regex.Escape(marker)} -->", RegexOptions.Singleline);
        match.Success.Should().BeTrue($"docs/results.md has the markers <!-- {marker} --> and <!-- /{marker} -->");

        var (code, output, error) = Run("analyze-sweep", RepositoryFile(csv), "--format", "markdown");

        code.Should().Be(0, error);
        match.Groups[1].Value.Should().Be(output.Trim().ReplaceLineEndings("\n"),
            $"the page's table must be `completep analyze-sweep {csv} --format markdown` (regenerate it with python3 docs/results/refresh-page.py)");
        output.Should().NotContain("lr tried", "every reported optimum lies inside its grid");
    }
}
