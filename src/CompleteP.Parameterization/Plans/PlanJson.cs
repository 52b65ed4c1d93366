using System.Text.Json;

namespace CompleteP;


/// <summary>
/// JSON forms: the whole <see cref="ParameterizationPlan"/> (lossless round trip), and the
/// role-level summary of <see cref="RuleSet"/> that <c>completep plan --format json</c>
/// prints (the schema documented in <c>docs/plan-json.md</c>).
/// </summary>
public static class PlanJson
{
    /// <summary>Serializes a plan.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>Its JSON text.</returns>
    public static string Serialize(ParameterizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Write(w => PlanJsonSchema.Plan.Write(w, plan), indented: true);
    }

    /// <summary>The longest plan document <see cref="Deserialize(string)"/> reads: 256 Mi characters (a plan row is about 1.5 Ki characters, so some 170,000 tensors).</summary>
    public static int DefaultMaxLength { get; } = 256 * 1024 * 1024;

    /// <summary>
    /// Reads a plan written by <see cref="Serialize"/>, strictly: every object holds exactly the fields Serialize writes
    /// (a missing field, an extra one or one given twice is an error, so a plan from another version or a hand edit is
    /// never half read), every value has its type (enums by their names only, integers for shapes and sizes, finite
    /// numbers), and the values pass the checks of the types they make. A round trip never changes a value.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="JsonException">The text is not a plan: the message says what is wrong and where (its JSON path, also in <see cref="JsonException.Path"/>).</exception>
    public static ParameterizationPlan Deserialize(string json) => Deserialize(json, DefaultMaxLength);

    /// <summary>Reads a plan written by <see cref="Serialize"/>, as <see cref="Deserialize(string)"/>, refusing texts longer than <paramref name="maxLength"/> characters before parsing them.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="maxLength">The longest text to read, in characters; at least 1.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="JsonException">The text is longer than <paramref name="maxLength"/>, or is not a plan (the message says what and where).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public static ParameterizationPlan Deserialize(string json, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(json);
        Guard.Positive(maxLength, nameof(maxLength));
        if (json.Length > maxLength)
        {
            throw new JsonException($"$: the plan document is {StrictJson.Size(json.Length)} long, more than the {StrictJson.Size(maxLength)} this reads " +
                                    "(PlanJson.Deserialize(json, maxLength) reads longer ones).", "$", null, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = PlanJsonSchema.MaxDepth });
        }
        catch (JsonException e)
        {
            // System.Text.Json ends its message with the (0-based) position; this one gives it 1-based, first.
            string message = System.Text.RegularExpressions.Regex.Replace(e.Message, @"\s*(Path: \S*\s*\|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.\s*$", string.Empty);
            throw new JsonException($"{e.Path ?? "$"}: the text is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the line): {message}",
                e.Path ?? "$", e.LineNumber, e.BytePositionInLine, e);
        }

        using (document)
        {
            return PlanJsonSchema.Plan.Read(document.RootElement, "$");
        }
    }

    /// <summary>
    /// The role-level summary: one JSON object with <c>parameterization</c>, <c>alpha</c>,
    /// <c>baseWidth</c>, <c>width</c>, <c>baseDepth</c>, <c>depth</c>, <c>headDim</c>, <c>widthMultiplier</c>, <c>depthMultiplier</c>, <c>residualMultiplier</c>,
    /// <c>outputMultiplier</c>, <c>embeddingMultiplier</c>, <c>attentionScale</c>, the training shapes (<c>baseTokensPerStep</c>, <c>tokensPerStep</c>,
    /// <c>baseTokens</c>, <c>tokens</c>, <c>batchMultiplier</c>, <c>stepMultiplier</c>; null without them), <c>timescaleExponent</c>,
    /// <c>moduleHyperparameters</c> (the per-module entries in their text form, <c>embedding.lr=2</c>; role entries are in the roles' numbers,
    /// name patterns apply only to a model's named tensors), <c>branchResidualMultipliers</c> (for each per-branch residual multiplier,
    /// <c>*.attn.res=0.5</c>, its pattern and the multiplier of a branch only it matches, <c>0.5 * m_L^-alpha</c>), <c>roles</c>
    /// and <c>warnings</c>: for each role the numbers <c>learningRate</c>, <c>weightDecay</c>,
    /// <c>adamEpsilon</c>, <c>beta1</c>, <c>beta2</c> and <c>initStd</c> (normal init) or <c>initValue</c> (constant init).
    /// </summary>
    /// <param name="rules">The rules.</param>
    /// <param name="indented">Whether to indent.</param>
    /// <returns>The JSON text.</returns>
    internal static string SerializeRoleSummary(RuleSet rules, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return Write(w =>
        {
            var setup = rules.Setup;
            w.WriteStartObject();
            w.WriteString("parameterization", setup.Parameterization.Name);
            if (setup.Parameterization.DepthExponent is { } alpha)
            {
                w.WriteNumber("alpha", alpha);
            }
            else
            {
                w.WriteNull("alpha");
            }

            w.WriteNumber("baseWidth", setup.BaseShape.Width);
            w.WriteNumber("width", setup.Target.Width);
            w.WriteNumber("baseDepth", setup.BaseShape.Depth);
            w.WriteNumber("depth", setup.Target.Depth);
            w.WriteNumber("headDim", setup.HeadDim);
            w.WriteNumber("widthMultiplier", rules.WidthMultiplier);
            w.WriteNumber("depthMultiplier", rules.DepthMultiplier);
            w.WriteNumber("residualMultiplier", rules.Multipliers.Residual.Value);
            w.WriteNumber("outputMultiplier", rules.Multipliers.Output.Value);
            w.WriteNumber("embeddingMultiplier", rules.Multipliers.Embedding.Value);
            w.WriteNumber("attentionScale", rules.Multipliers.AttentionScale.Value);
            if (setup.Training is { } training)
            {
                w.WriteNumber("baseTokensPerStep", training.Base.TokensPerStep);
                w.WriteNumber("tokensPerStep", training.Target.TokensPerStep);
                w.WriteNumber("baseTokens", training.Base.Tokens);
                w.WriteNumber("tokens", training.Target.Tokens);
                w.WriteNumber("batchMultiplier", training.BatchMultiplier);
                w.WriteNumber("stepMultiplier", training.StepMultiplier);
            }
            else
            {
                foreach (string key in new[] { "baseTokensPerStep", "tokensPerStep", "baseTokens", "tokens", "batchMultiplier", "stepMultiplier" })
                {
                    w.WriteNull(key);
                }
            }

            w.WriteNumber("timescaleExponent", setup.Options.TimescaleExponent);
            w.WriteStartArray("moduleHyperparameters");
            foreach (var module in setup.Hyperparameters.Modules)
            {
                w.WriteStringValue(module.ToString());
            }

            w.WriteEndArray();
            w.WriteStartObject("branchResidualMultipliers");
            foreach (var branch in setup.Hyperparameters.ResidualMultipliers)
            {
                w.WriteNumber(branch.Selector, RulesEngine.BranchResidual(setup, [branch]).Value);
            }

            w.WriteEndObject();
            w.WriteStartObject("roles");
            foreach (var (role, rule) in rules.Roles)
            {
                w.WriteStartObject(JsonNamingPolicy.CamelCase.ConvertName(role.ToString()));
                w.WriteNumber("learningRate", rule.LearningRate);
                w.WriteNumber("weightDecay", rule.WeightDecay);
                w.WriteNumber("adamEpsilon", rule.AdamEpsilon);
                w.WriteNumber("beta1", rule.Beta1);
                w.WriteNumber("beta2", rule.Beta2);
                w.WriteNumber(rule.InitKind == InitKind.Normal ? "initStd" : "initValue", rule.InitValue);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteStartArray("warnings");
            foreach (var warning in TrainingRules.Warnings(setup))
            {
                w.WriteStringValue(warning.ToString());
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, indented);
    }

    private static string Write(Action<Utf8JsonWriter> write, bool indented)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
