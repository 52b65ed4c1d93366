using Spectre.Console;

namespace CompleteP.Cli;

/// <summary>Plain-text (rounded box, no colours) and markdown tables, as the commands print them.</summary>
internal static class ConsoleTable
{
    /// <summary>Writes a boxed table 160 characters wide at most; a null row is an empty separator row.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="title">The title above the table.</param>
    /// <param name="headers">The column headers; a header starting with '>' is right-aligned (the '>' is not shown).</param>
    /// <param name="rows">The cells of each row.</param>
    public static void Write(TextWriter output, string title, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>?> rows)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            table.AddColumn(header.StartsWith('>') ? new TableColumn(Markup.Escape(header[1..])).RightAligned() : new TableColumn(Markup.Escape(header)));
        }

        foreach (var row in rows)
        {
            if (row is null)
            {
                table.AddEmptyRow();
            }
            else
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
        }

        console.Write(table);
    }

    /// <summary>Writes a markdown table under a bold title; a null row is skipped.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="title">The title above the table.</param>
    /// <param name="headers">The column headers; a header starting with '>' is right-aligned.</param>
    /// <param name="rows">The cells of each row.</param>
    public static void WriteMarkdown(TextWriter output, string title, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>?> rows)
    {
        output.WriteLine($"**{title}**");
        output.WriteLine();
        output.WriteLine($"| {string.Join(" | ", headers.Select(h => h.TrimStart('>')))} |");
        output.WriteLine($"|{string.Concat(headers.Select(h => h.StartsWith('>') ? "---:|" : "---|"))}");
        foreach (var row in rows.OfType<IReadOnlyList<string>>())
        {
            output.WriteLine($"| {string.Join(" | ", row)} |");
        }
    }
}
