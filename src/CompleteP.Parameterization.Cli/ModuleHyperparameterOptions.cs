using System.Globalization;
using System.Text.Json;
using CompleteP;

namespace CompleteP.Cli;

/// <summary>
/// Reads per-module base hyperparameters from the command line: <c>--hp SELECTOR.FIELD=FACTOR</c> (repeatable) and
/// <c>--hp-file PATH</c>, a JSON file of the same entries, either an array of <c>"SELECTOR.FIELD=FACTOR"</c> strings or an
/// object mapping <c>"SELECTOR.FIELD"</c> to the factor. Shared by the <c>completep</c> tool and the nanoGPT sample (which
/// compiles this file too). Bad input is an <see cref="ArgumentException"/> whose one-line message starts with the option and
/// names the valid forms, and whose parameter name is the option.
/// </summary>
internal static class ModuleHyperparameterOptions
{
    /// <summary>The option's description, for help.</summary>
    public const string HpDescription =
        "per-module base hyperparameter, repeatable: SELECTOR.FIELD=FACTOR, SELECTOR a role (embedding, hidden-weight, hidden-norm, qk-norm, final-norm, unembedding, ...) " +
        "or a parameter-name pattern ('layers.*.mlp.*'), FIELD lr, init, wd or eps; the factor multiplies the base value at the base shape and transfers with it; " +
        "or a per-branch residual multiplier, BRANCH-PATTERN.res=FACTOR ('*.attn.res=0.5': the attention branches add 0.5 * m_L^-alpha * attn(x))";

    /// <summary>The file option's description, for help.</summary>
    public const string HpFileDescription =
        "a JSON file of per-module base hyperparameters: an array of \"SELECTOR.FIELD=FACTOR\" strings, or an object {\"SELECTOR.FIELD\": FACTOR, ...}";

    /// <summary>The entries of <c>--hp-file</c> (first) and <c>--hp</c>; empty when neither is given.</summary>
    /// <param name="hp">The <c>--hp</c> values.</param>
    /// <param name="file">The <c>--hp-file</c> path, or null.</param>
    /// <returns>The entries.</returns>
    /// <exception cref="ArgumentException">An entry, the file or the combination is bad; the message starts with the option.</exception>
    public static IReadOnlyList<ModuleHyperparameter> Read(IEnumerable<string>? hp, string? file)
    {
        var entries = new List<ModuleHyperparameter>();
        if (file is not null)
        {
            entries.AddRange(ReadFile(file));
        }

        foreach (string text in hp ?? [])
        {
            entries.Add(Parse(text, "--hp"));
        }

        var twice = entries.GroupBy(e => (e.Selector, e.Field)).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new ArgumentException($"--hp: '{twice.Key.Selector}.{twice.First().FieldName}' is given {twice.Count()} times (in --hp and --hp-file together): give each SELECTOR.FIELD once.", "--hp");
        }

        return entries;
    }

    /// <summary>The entries as one CSV-safe field: the text forms joined by <c>;</c> (empty for none).</summary>
    /// <param name="entries">The entries.</param>
    /// <returns>The text.</returns>
    public static string Join(IEnumerable<ModuleHyperparameter> entries) => string.Join(';', entries.Select(e => e.ToString()));

    private static ModuleHyperparameter Parse(string text, string option)
    {
        try
        {
            return ModuleHyperparameter.Parse(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            string message = e.Message.Split('\n')[0];
            int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            message = suffix >= 0 ? message[..suffix] : message;
            if (e is ArgumentException && !message.Contains("SELECTOR.FIELD=FACTOR", StringComparison.Ordinal))
            {
                message = $"'{text}': {message} The form is SELECTOR.FIELD=FACTOR (e.g. embedding.lr=2, layers.*.mlp.*.init=0.5).";
            }

            throw new ArgumentException($"{option}: {message}", option, e);
        }
    }

    private static IEnumerable<ModuleHyperparameter> ReadFile(string path)
    {
        const string Forms = "an array of \"SELECTOR.FIELD=FACTOR\" strings or an object {\"SELECTOR.FIELD\": FACTOR}, e.g. [\"embedding.lr=2\"] or {\"layers.*.mlp.*.init\": 0.5}";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"--hp-file: cannot read '{path}': {e.Message}", "--hp-file", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--hp-file: '{path}' is not JSON ({e.Message.Split('\n')[0]}); it must hold {Forms}.", "--hp-file", e);
        }

        using (document)
        {
            var root = document.RootElement;
            var entries = new List<ModuleHyperparameter>();
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in root.EnumerateArray())
                {
                    entries.Add(item.ValueKind == JsonValueKind.String
                        ? Parse(item.GetString()!, "--hp-file")
                        : throw new ArgumentException($"--hp-file: '{path}' holds {item.ValueKind.ToString().ToLowerInvariant()} {item.GetRawText()} in its array; it must hold {Forms}.", "--hp-file"));
                }
            }
            else if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in root.EnumerateObject())
                {
                    entries.Add(property.Value.ValueKind == JsonValueKind.Number
                        ? Parse($"{property.Name}={property.Value.GetDouble().ToString("R", CultureInfo.InvariantCulture)}", "--hp-file")
                        : throw new ArgumentException($"--hp-file: '{path}': \"{property.Name}\" is {property.Value.GetRawText()}, not a number; it must hold {Forms}.", "--hp-file"));
                }
            }
            else
            {
                throw new ArgumentException($"--hp-file: '{path}' holds a {root.ValueKind.ToString().ToLowerInvariant()}; it must hold {Forms}.", "--hp-file");
            }

            return entries;
        }
    }
}
