using System.Globalization;
using System.Text.Json;

namespace CompleteP;

/// <summary>
/// How one type is written to JSON and read back strictly. Reading says what is wrong and where (its JSON path):
/// an object holds exactly its fields, none missing, none extra, none twice; every value has its type (enums by
/// name only, integers where the type holds integers, numbers finite); a constructor's own check (a negative
/// dimension, a rule's range, two rows of one name) is reported at the path of the object it rejected.
/// </summary>
/// <typeparam name="T">The type.</typeparam>
internal sealed class JsonCodec<T>(Action<Utf8JsonWriter, T> write, Func<JsonElement, string, T> read)
{
    /// <summary>Writes <paramref name="value"/>.</summary>
    public void Write(Utf8JsonWriter writer, T value) => write(writer, value);

    /// <summary>Reads the value at <paramref name="path"/>; a <see cref="JsonException"/> names the path of what is wrong.</summary>
    public T Read(JsonElement element, string path) => read(element, path);
}

/// <summary>One field of a JSON object of type <typeparamref name="TOwner"/>, as the object codec sees it.</summary>
/// <typeparam name="TOwner">The type the object is made of.</typeparam>
internal interface IJsonField<in TOwner>
{
    /// <summary>The field's name in the JSON object.</summary>
    string Name { get; }

    /// <summary>Writes the field (name and value) of <paramref name="owner"/>.</summary>
    void Write(Utf8JsonWriter writer, TOwner owner);

    /// <summary>Reads the field's value.</summary>
    object? Read(JsonElement element, string path);
}

/// <summary>A field: its name, the member of <typeparamref name="TOwner"/> it holds, and how that value is written and read.</summary>
internal sealed class JsonField<TOwner, TValue>(string name, Func<TOwner, TValue> get, JsonCodec<TValue> codec) : IJsonField<TOwner>
{
    public string Name => name;

    public void Write(Utf8JsonWriter writer, TOwner owner)
    {
        writer.WritePropertyName(name);
        codec.Write(writer, get(owner));
    }

    public object? Read(JsonElement element, string path) => codec.Read(element, path);
}

/// <summary>
/// A JSON object for <typeparamref name="T"/> from one list of fields: written in that order, read strictly (exactly
/// those fields), then made by the constructor the list ends with.
/// </summary>
/// <typeparam name="T">The type the object is made of.</typeparam>
internal static class JsonObject<T>
{
    /// <summary>A field holding <paramref name="get"/> of the object.</summary>
    public static JsonField<T, TValue> Field<TValue>(string name, Func<T, TValue> get, JsonCodec<TValue> codec) => new(name, get, codec);

    public static JsonCodec<T> Of<TA, TB>(JsonField<T, TA> a, JsonField<T, TB> b, Func<TA, TB, T> create) =>
        Of([a, b], v => create((TA)v[0]!, (TB)v[1]!));

    public static JsonCodec<T> Of<TA, TB, TC>(JsonField<T, TA> a, JsonField<T, TB> b, JsonField<T, TC> c, Func<TA, TB, TC, T> create) =>
        Of([a, b, c], v => create((TA)v[0]!, (TB)v[1]!, (TC)v[2]!));

    public static JsonCodec<T> Of<TA, TB, TC, TD>(JsonField<T, TA> a, JsonField<T, TB> b, JsonField<T, TC> c, JsonField<T, TD> d, Func<TA, TB, TC, TD, T> create) =>
        Of([a, b, c, d], v => create((TA)v[0]!, (TB)v[1]!, (TC)v[2]!, (TD)v[3]!));

    public static JsonCodec<T> Of<TA, TB, TC, TD, TE, TF>(JsonField<T, TA> a, JsonField<T, TB> b, JsonField<T, TC> c, JsonField<T, TD> d,
        JsonField<T, TE> e, JsonField<T, TF> f, Func<TA, TB, TC, TD, TE, TF, T> create) =>
        Of([a, b, c, d, e, f], v => create((TA)v[0]!, (TB)v[1]!, (TC)v[2]!, (TD)v[3]!, (TE)v[4]!, (TF)v[5]!));

    public static JsonCodec<T> Of<TA, TB, TC, TD, TE, TF, TG>(JsonField<T, TA> a, JsonField<T, TB> b, JsonField<T, TC> c, JsonField<T, TD> d,
        JsonField<T, TE> e, JsonField<T, TF> f, JsonField<T, TG> g, Func<TA, TB, TC, TD, TE, TF, TG, T> create) =>
        Of([a, b, c, d, e, f, g], v => create((TA)v[0]!, (TB)v[1]!, (TC)v[2]!, (TD)v[3]!, (TE)v[4]!, (TF)v[5]!, (TG)v[6]!));

    public static JsonCodec<T> Of<TA, TB, TC, TD, TE, TF, TG, TH>(JsonField<T, TA> a, JsonField<T, TB> b, JsonField<T, TC> c, JsonField<T, TD> d,
        JsonField<T, TE> e, JsonField<T, TF> f, JsonField<T, TG> g, JsonField<T, TH> h, Func<TA, TB, TC, TD, TE, TF, TG, TH, T> create) =>
        Of([a, b, c, d, e, f, g, h], v => create((TA)v[0]!, (TB)v[1]!, (TC)v[2]!, (TD)v[3]!, (TE)v[4]!, (TF)v[5]!, (TG)v[6]!, (TH)v[7]!));

    private static JsonCodec<T> Of(IJsonField<T>[] fields, Func<object?[], T> create)
    {
        string[] names = fields.Select(f => f.Name).ToArray();
        return new(
            (writer, value) =>
            {
                writer.WriteStartObject();
                foreach (var field in fields)
                {
                    field.Write(writer, value);
                }

                writer.WriteEndObject();
            },
            (element, path) =>
            {
                var o = StrictJson.Fields(element, path, names);
                var values = new object?[fields.Length];
                for (int i = 0; i < fields.Length; i++)
                {
                    values[i] = fields[i].Read(o[names[i]], StrictJson.Child(path, names[i]));
                }

                return StrictJson.Construct(path, () => create(values));
            });
    }
}

/// <summary>The codecs of JSON's own values, read strictly, and the errors they raise.</summary>
internal static class StrictJson
{
    public static JsonCodec<string> Text { get; } = new((w, v) => w.WriteStringValue(v), ReadText);

    public static JsonCodec<bool> Bool { get; } = new((w, v) => w.WriteBooleanValue(v), (e, path) =>
        e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw TypeError(e, path, "true or false"));

    /// <summary>A finite double.</summary>
    public static JsonCodec<double> Number { get; } = new((w, v) => w.WriteNumberValue(v), (e, path) =>
    {
        Expect(e, JsonValueKind.Number, path, "a number");
        return e.TryGetDouble(out double value) && double.IsFinite(value)
            ? value
            : throw Error(path, $"{e.GetRawText()} is outside the range of a double (about ±1.8E+308).");
    });

    public static JsonCodec<int> Int { get; } = new((w, v) => w.WriteNumberValue(v), (e, path) =>
    {
        Expect(e, JsonValueKind.Number, path, "an integer");
        return e.TryGetInt32(out int value) ? value : throw Error(path, $"{e.GetRawText()} is not an integer from {int.MinValue} to {int.MaxValue}.");
    });

    public static JsonCodec<long> Long { get; } = new((w, v) => w.WriteNumberValue(v), (e, path) =>
    {
        Expect(e, JsonValueKind.Number, path, "an integer");
        return e.TryGetInt64(out long value) ? value : throw Error(path, $"{e.GetRawText()} is not an integer from {long.MinValue} to {long.MaxValue}.");
    });

    /// <summary>An enum value by its camelCase name only (no numbers, no other spelling).</summary>
    public static JsonCodec<T> Enum<T>() where T : struct, Enum =>
        new((w, v) => w.WriteStringValue(JsonNamingPolicy.CamelCase.ConvertName(v.ToString())), (e, path) =>
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
        });

    /// <summary>An array of items.</summary>
    public static JsonCodec<IReadOnlyList<T>> List<T>(JsonCodec<T> item) =>
        new((w, items) =>
        {
            w.WriteStartArray();
            foreach (var i in items)
            {
                item.Write(w, i);
            }

            w.WriteEndArray();
        }, (e, path) =>
        {
            Expect(e, JsonValueKind.Array, path, "an array");
            var items = new T[e.GetArrayLength()];
            int i = 0;
            foreach (var element in e.EnumerateArray())
            {
                items[i] = item.Read(element, $"{path}[{i}]");
                i++;
            }

            return items;
        });

    /// <summary>A value or null.</summary>
    public static JsonCodec<T?> OrNull<T>(JsonCodec<T> value) where T : class =>
        new((w, v) =>
        {
            if (v is null)
            {
                w.WriteNullValue();
            }
            else
            {
                value.Write(w, v);
            }
        }, (e, path) => e.ValueKind == JsonValueKind.Null ? null : value.Read(e, path));

    /// <summary>A value written as a string: <paramref name="format"/> writes it, <paramref name="parse"/> reads it back (its argument errors are errors at the path).</summary>
    public static JsonCodec<T> AsText<T>(Func<T, string> format, Func<string, T> parse) =>
        new((w, v) => w.WriteStringValue(format(v)), (e, path) =>
        {
            string text = ReadText(e, path);
            return Construct(path, () => parse(text));
        });

    /// <summary>The fields of an object, which must be exactly <paramref name="names"/>, each once.</summary>
    public static Dictionary<string, JsonElement> Fields(JsonElement e, string path, IReadOnlyList<string> names)
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

    /// <summary>Runs a constructor; its argument errors become errors at <paramref name="path"/>.</summary>
    public static T Construct<T>(string path, Func<T> create)
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

    public static JsonException Error(string path, string message, Exception? inner = null) =>
        new($"{path}: {message}", path, null, null, inner);

    public static string Child(string path, string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && name.Length > 0 ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";

    /// <summary>A size for messages: 1234567 characters as "1.2 Mi characters".</summary>
    public static string Size(long characters) => characters >= 1 << 20
        ? (characters / (double)(1 << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " Mi characters"
        : characters.ToString(CultureInfo.InvariantCulture) + " characters";

    private static string ReadText(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.String, path, "a string");
        return e.GetString()!;
    }

    private static string Names<T>() where T : struct, Enum => string.Join(", ", System.Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName));

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

    private static string Where(string path) => path == "$" ? "the plan" : $"'{path}'";

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
