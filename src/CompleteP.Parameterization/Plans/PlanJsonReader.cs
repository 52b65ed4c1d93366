using System.Globalization;
using System.Text.Json;
using CompleteP.Rules;

namespace CompleteP;

/// <summary>
/// Reads a plan document strictly, field by field, so that every error says what is wrong and where (its JSON path):
/// every object holds exactly the fields <see cref="PlanJson.Serialize"/> writes, none missing, none extra, none twice;
/// every value has its type (enums by name only, integers where the plan holds integers, numbers finite); every
/// constructor's own check (a negative dimension, a rule's range, two rows of one name) is reported at the path of the
/// object it rejected.
/// </summary>
internal static class PlanJsonReader
{
    /// <summary>Nesting deeper than a plan's own (7 levels) is refused while parsing.</summary>
    public const int MaxDepth = 16;

    public static ParameterizationPlan Read(JsonElement root)
    {
        const string path = "$";
        var o = Fields(root, path, "setup", "multipliers", "rows", "hooks", "scaledAttentionModules", "diagnostics");
        var setup = Setup(o["setup"], "$.setup");
        var multipliers = Multipliers(o["multipliers"], "$.multipliers");
        var rows = Items(o["rows"], "$.rows", Row);
        var hooks = Items(o["hooks"], "$.hooks", Hook);
        var attention = Items(o["scaledAttentionModules"], "$.scaledAttentionModules", Text);
        var diagnostics = Items(o["diagnostics"], "$.diagnostics", Diagnostic);
        return Construct(path, () => new ParameterizationPlan(setup, multipliers, rows, hooks, attention, diagnostics));
    }

    private static RuleSetup Setup(JsonElement e, string path)
    {
        var o = Fields(e, path, "parameterization", "baseShape", "target", "headDim", "hyperparameters", "options");
        var parameterization = Construct(path + ".parameterization", () => Parameterization.Parse(Text(o["parameterization"], path + ".parameterization")));
        var baseShape = Shape(o["baseShape"], path + ".baseShape");
        var target = Shape(o["target"], path + ".target");
        int headDim = Int32(o["headDim"], path + ".headDim");
        var hp = Hyperparameters(o["hyperparameters"], path + ".hyperparameters");
        var options = Options(o["options"], path + ".options");
        return Construct(path, () => new RuleSetup(parameterization, baseShape, target, headDim, hp, options));
    }

    private static ModelShape Shape(JsonElement e, string path)
    {
        var o = Fields(e, path, "width", "depth");
        int width = Int32(o["width"], path + ".width"), depth = Int32(o["depth"], path + ".depth");
        return Construct(path, () => new ModelShape(width, depth));
    }

    private static BaseHyperparameters Hyperparameters(JsonElement e, string path)
    {
        var o = Fields(e, path, "learningRate", "initStd", "weightDecay", "adamEpsilon");
        double lr = Number(o["learningRate"], path + ".learningRate"), std = Number(o["initStd"], path + ".initStd");
        double wd = Number(o["weightDecay"], path + ".weightDecay"), eps = Number(o["adamEpsilon"], path + ".adamEpsilon");
        return Construct(path, () => new BaseHyperparameters(lr, std, wd, eps));
    }

    private static RuleOptions Options(JsonElement e, string path)
    {
        var o = Fields(e, path, "epsilonScope", "weightDecayConvention", "gpt2OutputProjectionInit", "inputMultiplier", "outputMultiplier", "attentionMultiplier");
        var scope = EnumValue<EpsilonScope>(o["epsilonScope"], path + ".epsilonScope");
        var convention = EnumValue<WeightDecayConvention>(o["weightDecayConvention"], path + ".weightDecayConvention");
        bool gpt2 = Bool(o["gpt2OutputProjectionInit"], path + ".gpt2OutputProjectionInit");
        double input = Number(o["inputMultiplier"], path + ".inputMultiplier"), output = Number(o["outputMultiplier"], path + ".outputMultiplier");
        double attention = Number(o["attentionMultiplier"], path + ".attentionMultiplier");
        return Construct(path, () => new RuleOptions
        {
            EpsilonScope = scope,
            WeightDecayConvention = convention,
            Gpt2OutputProjectionInit = gpt2,
            InputMultiplier = input,
            OutputMultiplier = output,
            AttentionMultiplier = attention,
        });
    }

    private static ForwardMultipliers Multipliers(JsonElement e, string path)
    {
        var o = Fields(e, path, "residual", "output", "embedding", "attentionScale");
        return new ForwardMultipliers(Scaled(o["residual"], path + ".residual"), Scaled(o["output"], path + ".output"),
            Scaled(o["embedding"], path + ".embedding"), Scaled(o["attentionScale"], path + ".attentionScale"));
    }

    private static ScaledValue Scaled(JsonElement e, string path)
    {
        var o = Fields(e, path, "value", "formula", "substitution");
        double value = Number(o["value"], path + ".value");
        string formula = Text(o["formula"], path + ".formula"), substitution = Text(o["substitution"], path + ".substitution");
        return Construct(path, () => new ScaledValue(value, formula, substitution));
    }

    private static PlanRow Row(JsonElement e, string path)
    {
        var o = Fields(e, path, "name", "shape", "rule", "sharedWith", "residualBranch", "trainable", "folded");
        string name = Text(o["name"], path + ".name");
        var shape = Items(o["shape"], path + ".shape", Int64);
        var rule = Rule(o["rule"], path + ".rule");
        var shared = Items(o["sharedWith"], path + ".sharedWith", Text);
        string? branch = Nullable(o["residualBranch"], path + ".residualBranch", Text);
        bool trainable = Bool(o["trainable"], path + ".trainable");
        var folded = Nullable(o["folded"], path + ".folded", Folded);
        return Construct(path, () => new PlanRow(name, shape, rule, shared, branch, trainable, folded));
    }

    private static FoldedMultiplier Folded(JsonElement e, string path)
    {
        var o = Fields(e, path, "kind", "value");
        return new FoldedMultiplier(EnumValue<MultiplierKind>(o["kind"], path + ".kind"), Scaled(o["value"], path + ".value"));
    }

    private static TensorRule Rule(JsonElement e, string path)
    {
        var o = Fields(e, path, "role", "isBias", "widthMultiplier", "explained", "source", "weightDecayConvention");
        var role = EnumValue<TensorRole>(o["role"], path + ".role");
        bool isBias = Bool(o["isBias"], path + ".isBias");
        double width = Number(o["widthMultiplier"], path + ".widthMultiplier");
        var explained = Explanation(o["explained"], path + ".explained");
        string source = Text(o["source"], path + ".source");
        var convention = EnumValue<WeightDecayConvention>(o["weightDecayConvention"], path + ".weightDecayConvention");
        return Construct(path, () => new TensorRule(role, isBias, width, explained, source, convention));
    }

    private static RuleExplanation Explanation(JsonElement e, string path)
    {
        var o = Fields(e, path, "init", "learningRate", "weightDecay", "adamEpsilon");
        var init = Fields(o["init"], path + ".init", "kind", "value");
        var kind = EnumValue<InitKind>(init["kind"], path + ".init.kind");
        var value = Scaled(init["value"], path + ".init.value");
        var initRule = Construct(path + ".init", () => new InitRule(kind, value));
        return new RuleExplanation(initRule, Scaled(o["learningRate"], path + ".learningRate"), Scaled(o["weightDecay"], path + ".weightDecay"),
            Scaled(o["adamEpsilon"], path + ".adamEpsilon"));
    }

    private static MultiplierHook Hook(JsonElement e, string path)
    {
        var o = Fields(e, path, "moduleName", "kind", "value", "reason");
        return new MultiplierHook(Text(o["moduleName"], path + ".moduleName"), EnumValue<MultiplierKind>(o["kind"], path + ".kind"),
            Scaled(o["value"], path + ".value"), Text(o["reason"], path + ".reason"));
    }

    private static PlanDiagnostic Diagnostic(JsonElement e, string path)
    {
        var o = Fields(e, path, "severity", "subject", "message");
        return new PlanDiagnostic(EnumValue<DiagnosticSeverity>(o["severity"], path + ".severity"), Text(o["subject"], path + ".subject"), Text(o["message"], path + ".message"));
    }

    /// <summary>The fields of an object, which must be exactly <paramref name="names"/>, each once.</summary>
    private static Dictionary<string, JsonElement> Fields(JsonElement e, string path, params string[] names)
    {
        Expect(e, JsonValueKind.Object, path, "an object");
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (!names.Contains(p.Name, StringComparer.Ordinal))
            {
                throw Error(Child(path, p.Name), $"unknown field '{p.Name}' (a plan document holds exactly the fields PlanJson.Serialize writes; {Where(path)} has {Quoted(names)}).");
            }

            if (!fields.TryAdd(p.Name, p.Value))
            {
                throw Error(Child(path, p.Name), $"the field '{p.Name}' appears twice in {Where(path)}.");
            }
        }

        var missing = names.Where(n => !fields.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw Error(path, $"missing field{(missing.Count == 1 ? string.Empty : "s")} {Quoted(missing)} ({Where(path)} has {Quoted(names)}; write null where a value is absent).");
        }

        return fields;
    }

    private static T[] Items<T>(JsonElement e, string path, Func<JsonElement, string, T> item)
    {
        Expect(e, JsonValueKind.Array, path, "an array");
        var items = new List<T>(e.GetArrayLength());
        int i = 0;
        foreach (var element in e.EnumerateArray())
        {
            items.Add(item(element, $"{path}[{i++}]"));
        }

        return items.ToArray();
    }

    private static T? Nullable<T>(JsonElement e, string path, Func<JsonElement, string, T> read) where T : class =>
        e.ValueKind == JsonValueKind.Null ? null : read(e, path);

    private static string Text(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.String, path, "a string");
        return e.GetString()!;
    }

    private static bool Bool(JsonElement e, string path)
    {
        if (e.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return e.GetBoolean();
        }

        throw TypeError(e, path, "true or false");
    }

    private static double Number(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Number, path, "a number");
        if (!e.TryGetDouble(out double value) || !double.IsFinite(value))
        {
            throw Error(path, $"{e.GetRawText()} is outside the range of a double (about ±1.8E+308).");
        }

        return value;
    }

    private static int Int32(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Number, path, "an integer");
        return e.TryGetInt32(out int value) ? value : throw Error(path, $"{e.GetRawText()} is not an integer from {int.MinValue} to {int.MaxValue}.");
    }

    private static long Int64(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Number, path, "an integer");
        return e.TryGetInt64(out long value) ? value : throw Error(path, $"{e.GetRawText()} is not an integer from {long.MinValue} to {long.MaxValue}.");
    }

    /// <summary>An enum value, by its camelCase name only (as Serialize writes it; no numbers, no other spelling).</summary>
    private static T EnumValue<T>(JsonElement e, string path) where T : struct, Enum
    {
        Expect(e, JsonValueKind.String, path, $"a string ({Names<T>()})");
        string text = e.GetString()!;
        foreach (var value in System.Enum.GetValues<T>())
        {
            if (JsonNamingPolicy.CamelCase.ConvertName(value.ToString()) == text)
            {
                return value;
            }
        }

        throw Error(path, $"'{text}' is not a {typeof(T).Name}; valid: {Names<T>()}.");
    }

    private static string Names<T>() where T : struct, System.Enum => string.Join(", ", System.Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName));

    private static void Expect(JsonElement e, JsonValueKind kind, string path, string what)
    {
        if (e.ValueKind != kind)
        {
            throw TypeError(e, path, what);
        }
    }

    private static JsonException TypeError(JsonElement e, string path, string what)
    {
        string found = e.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string {Shorten(e.GetRawText())}",
            JsonValueKind.Number => $"the number {Shorten(e.GetRawText())}",
            JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
            _ => "null",
        };
        return Error(path, $"expected {what}, found {found}.");
    }

    /// <summary>Runs a constructor; its argument errors become errors at <paramref name="path"/>.</summary>
    private static T Construct<T>(string path, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            string message = e.Message;
            int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw Error(path, (suffix >= 0 ? message[..suffix] : message).Split('\n')[0].Trim(), e);
        }
    }

    private static JsonException Error(string path, string message, Exception? inner = null) =>
        new($"{path}: {message}", path, null, null, inner);

    private static string Child(string path, string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && name.Length > 0 ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";

    private static string Where(string path) => path == "$" ? "the plan" : $"'{path}'";

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    /// <summary>A size for messages: 1234567 characters as "1.2 M characters".</summary>
    public static string Size(long characters) => characters >= 1 << 20
        ? (characters / (double)(1 << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " Mi characters"
        : characters.ToString(CultureInfo.InvariantCulture) + " characters";
}
