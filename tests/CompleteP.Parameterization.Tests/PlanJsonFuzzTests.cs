using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;

namespace CompleteP.Tests.Engine;

/// <summary>
/// Plans read from disk: random plans round-trip without changing a value; truncated documents, wrong types, unknown
/// roles, missing, extra and repeated fields, numbers out of range, over-long and over-deep documents are refused with
/// a message that says what and where (the JSON path); thousands of mutated documents give a plan or such an error,
/// never another exception. Seeded: the same documents every run.
/// </summary>
public sealed class PlanJsonFuzzTests
{
    private static readonly string[] Names = ["sp", "mup", "completep", "depth-mup", "alpha=0.75", "alpha=0.6180339887498949"];

    /// <summary>A random valid plan: random setup (extremes that the engine accepts included), rows of every role, hooks, diagnostics.</summary>
    internal static ParameterizationPlan RandomPlan(Random random, int? rowCount = null)
    {
        RuleSetup setup;
        while (true)
        {
            try
            {
                int headDim = new[] { 1, 8, 16, 64 }[random.Next(4)];
                var p = Parameterization.Parse(Names[random.Next(Names.Length)]);
                bool withTraining = random.Next(2) == 0; // batch size and length too (a base or target batch the square-root rule refuses is drawn again)
                setup = new RuleSetup(p,
                    new ModelShape(headDim * random.Next(1, 64), random.Next(1, 12)),
                    new ModelShape(headDim * (random.Next(3) == 0 ? random.Next(1, 1 << 16) : random.Next(1, 64)), random.Next(3) == 0 ? random.Next(1, 10_001) : random.Next(1, 48)),
                    headDim,
                    new BaseHyperparameters(Math.Pow(10, -random.Next(1, 290)) * (1 + random.NextDouble()), random.Next(5) == 0 ? 0 : random.NextDouble() * 0.1,
                        random.Next(3) == 0 ? 0 : random.NextDouble(), Math.Pow(10, -random.Next(1, 250)) * (1 + random.NextDouble()),
                        0.5 + (random.NextDouble() * 0.49), 0.9 + (random.NextDouble() * 0.0999)),
                    new RuleOptions
                    {
                        EpsilonScope = random.Next(2) == 0 ? EpsilonScope.Global : EpsilonScope.ResidualBlocks,
                        WeightDecayConvention = random.Next(2) == 0 ? WeightDecayConvention.Independent : WeightDecayConvention.Coupled,
                        Gpt2OutputProjectionInit = p.Kind == ParameterizationKind.Standard && random.Next(2) == 0,
                        InputMultiplier = random.Next(2) == 0 ? 1 : Math.Exp(random.NextDouble() * 10 - 5),
                        OutputMultiplier = random.Next(2) == 0 ? 1 : Math.Exp(random.NextDouble() * 10 - 5),
                        AttentionMultiplier = random.Next(2) == 0 ? 1 : random.NextDouble() + 0.01,
                        TimescaleExponent = withTraining && random.Next(2) == 0 ? random.NextDouble() - 1 : 0,
                    },
                    withTraining ? new TrainingShape(random.Next(1, 1 << 20), (long)random.Next(1 << 20, int.MaxValue) * random.Next(1, 64)) : null,
                    withTraining ? new TrainingShape(random.Next(1, 1 << 20), (long)random.Next(1 << 20, int.MaxValue) * random.Next(1, 64)) : null);
                _ = RulesEngine.Compute(setup);
                break;
            }
            catch (ArgumentException)
            {
                // Out of the engine's range: draw again.
            }
        }

        var rules = RulesEngine.Compute(setup);
        int n = rowCount ?? random.Next(0, 14);
        var rows = new List<PlanRow>();
        for (int i = 0; i < n; i++)
        {
            var role = (TensorRole)random.Next(6);
            bool isBias = role != TensorRole.HiddenWeight && random.Next(3) == 0;
            var descriptor = role == TensorRole.HiddenWeight && random.Next(3) == 0
                ? new TensorDescriptor(role, fanIn: random.Next(1, 5000), baseFanIn: random.Next(1, 5000))
                : new TensorDescriptor(role, isBias);
            TensorRule rule;
            try
            {
                rule = rules.RuleFor(descriptor);
            }
            catch (ArgumentOutOfRangeException)
            {
                rule = rules.RuleFor(new TensorDescriptor(role, isBias));
            }

            MultiplierKind? kind = role switch
            {
                TensorRole.HiddenWeight or TensorRole.HiddenBias => MultiplierKind.Residual,
                TensorRole.Unembedding => MultiplierKind.Output,
                TensorRole.Embedding => MultiplierKind.Embedding,
                _ => null,
            };
            FoldedMultiplier? folded = null;
            if (kind is { } k && random.Next(2) == 0)
            {
                folded = new FoldedMultiplier(k, rules.Multipliers[k]);
                try
                {
                    _ = rule.Folded(folded);
                }
                catch (ArgumentOutOfRangeException)
                {
                    folded = null; // a fan-in rule whose fold leaves the range
                }
            }

            long[] shape = Enumerable.Range(0, random.Next(0, 4)).Select(_ => (long)random.Next(0, 5000)).ToArray();
            var row = new PlanRow($"m{i}.{(random.Next(4) == 0 ? "unicode-é\"\\" : "p")}.{role}", shape, rule,
                Enumerable.Range(0, random.Next(3) == 0 ? random.Next(1, 3) : 0).Select(j => $"alias{i}_{j}").ToArray(),
                random.Next(2) == 0 ? $"h.{i}.attn" : null, trainable: random.Next(5) != 0);
            rows.Add(folded is null ? row : row.Fold(folded));
        }

        var hooks = Enumerable.Range(0, random.Next(0, 3))
            .Select(i => new MultiplierHook($"lm_head{i}", (MultiplierKind)random.Next(3), rules.Multipliers[(MultiplierKind)random.Next(3)], HookReason.TiedReadout))
            .ToList();
        var diagnostics = Enumerable.Range(0, random.Next(0, 3))
            .Select(i => new PlanDiagnostic(random.Next(2) == 0 ? DiagnosticSeverity.Info : DiagnosticSeverity.Warning, $"s{i}", "line 1\nline 2 \u2014 \"quoted\""))
            .ToList();
        return ParameterizationPlan.Create(rules, rows, hooks, random.Next(2) == 0 ? ["h.0.attn"] : [], diagnostics);
    }

    [Fact]
    public void Random_plans_round_trip_without_changing_a_value()
    {
        var random = new Random(7);
        for (int i = 0; i < 400; i++)
        {
            var plan = RandomPlan(random);
            string json = PlanJson.Serialize(plan);
            var back = PlanJson.Deserialize(json);
            back.Should().Be(plan, "plan {0} compares by value", i);
            PlanJson.Serialize(back).Should().Be(json, "plan {0}: the same text again, so every number is the same double", i);
            for (int r = 0; r < plan.Rows.Count; r++)
            {
                back.Rows[r].Applied.Should().Be(plan.Rows[r].Applied, "the applied rule is recomputed from the rule and the fold");
                BitConverter.DoubleToInt64Bits(back.Rows[r].Applied.LearningRate).Should().Be(BitConverter.DoubleToInt64Bits(plan.Rows[r].Applied.LearningRate));
            }
        }
    }

    private static string SampleJson()
    {
        var rules = TestSupport.Rules(Parameterization.CompleteP, 64, 2, 128, 4, 32);
        var plan = ParameterizationPlan.Create(rules,
        [
            new PlanRow("wte.weight", [65, 128], rules[TensorRole.Embedding], sharedWith: ["lm_head.weight"]),
            new PlanRow("h.0.attn.c_proj.weight", [128, 128], rules[TensorRole.HiddenWeight], residualBranch: "h.0.attn")
                .Fold(new FoldedMultiplier(MultiplierKind.Residual, rules.Multipliers.Residual)),
        ], [new MultiplierHook("lm_head", MultiplierKind.Output, rules.Multipliers.Output, HookReason.TiedReadout)], ["h.0.attn"],
            [new PlanDiagnostic(DiagnosticSeverity.Warning, "x", "y")]);
        return PlanJson.Serialize(plan);
    }

    private static JsonException Refused(string json, string path, params string[] fragments)
    {
        var act = () => PlanJson.Deserialize(json);
        var e = act.Should().ThrowExactly<JsonException>().Which;
        e.Path.Should().Be(path, e.Message);
        e.Message.Should().StartWith(path + ": ");
        foreach (var f in fragments)
        {
            e.Message.Should().Contain(f);
        }

        return e;
    }

    private static string Edit(Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(SampleJson())!;
        edit(node);
        return node.ToJsonString();
    }

    [Fact]
    public void A_truncated_document_is_refused_with_its_position()
    {
        string json = SampleJson();
        foreach (int cut in new[] { 0, 1, 10, json.Length / 3, json.Length / 2, json.Length - 2, json.Length - 1 })
        {
            var act = () => PlanJson.Deserialize(json[..cut]);
            var e = act.Should().ThrowExactly<JsonException>().Which;
            e.Message.Should().Contain("not valid JSON").And.Contain("line ");
            e.Message.Should().StartWith("$");
        }
    }

    [Fact]
    public void Wrong_types_are_refused_at_their_path()
    {
        Refused(Edit(n => n["setup"]!["headDim"] = "32"), "$.setup.headDim", "expected an integer", "the string \"32\"");
        Refused(Edit(n => n["setup"]!["headDim"] = 32.5), "$.setup.headDim", "32.5 is not an integer");
        Refused(Edit(n => n["rows"]![1]!["trainable"] = "true"), "$.rows[1].trainable", "expected true or false");
        Refused(Edit(n => n["rows"]![0]!["shape"]![1] = 1.5), "$.rows[0].shape[1]", "is not an integer");
        Refused(Edit(n => n["rows"] = new JsonObject()), "$.rows", "expected an array, found an object");
        Refused(Edit(n => n["multipliers"]!["residual"]!["value"] = null), "$.multipliers.residual.value", "expected a number, found null");
        Refused(Edit(n => n["rows"]![0]!["rule"]!["role"] = 2), "$.rows[0].rule.role", "expected a string", "embedding");
    }

    [Fact]
    public void Unknown_roles_and_enum_names_are_refused_listing_the_valid_ones()
    {
        Refused(Edit(n => n["rows"]![1]!["rule"]!["role"] = "hiddenweight"), "$.rows[1].rule.role", "'hiddenweight' is not a TensorRole",
            "embedding, hiddenNorm, hiddenWeight, hiddenBias, finalNorm, unembedding");
        Refused(Edit(n => n["rows"]![1]!["folded"]!["kind"] = "attention"), "$.rows[1].folded.kind", "is not a MultiplierKind");
        Refused(Edit(n => n["setup"]!["options"]!["epsilonScope"] = "everywhere"), "$.setup.options.epsilonScope", "residualBlocks, global");
        Refused(Edit(n => n["setup"]!["parameterization"] = "complete-q"), "$.setup.parameterization", "Unknown parameterization 'complete-q'");
    }

    [Fact]
    public void Missing_extra_and_repeated_fields_are_refused()
    {
        Refused(Edit(n => n["rows"]![0]!.AsObject().Remove("trainable")), "$.rows[0]", "missing field 'trainable'", "write null");
        Refused(Edit(n => n.AsObject().Remove("diagnostics")), "$", "missing field 'diagnostics'");
        Refused(Edit(n => n["rows"]![0]!["rule"]!["comment"] = "hand edited"), "$.rows[0].rule.comment", "unknown field 'comment'");
        Refused(Edit(n => n["setup"]!["hyperparameters"]!["momentum"] = 0.95), "$.setup.hyperparameters.momentum", "unknown field 'momentum'", "'learningRate'");
        Refused(Edit(n => n["rows"]![0]!["rule"]!["explained"]!.AsObject().Remove("beta2")), "$.rows[0].rule.explained", "missing field 'beta2'");
        string repeated = SampleJson().Replace("\"headDim\": 32,", "\"headDim\": 32, \"headDim\": 64,", StringComparison.Ordinal);
        Refused(repeated, "$.setup.headDim", "appears twice");
    }

    [Fact]
    public void Values_out_of_range_are_refused_where_they_are()
    {
        // 1e400 parses to infinity in System.Text.Json; it is refused, not read as infinity.
        Refused(SampleJson().Replace("\"value\": 0.5,", "\"value\": 1e400,", StringComparison.Ordinal), "$.multipliers.residual.value", "outside the range of a double");
        Refused(Edit(n => n["rows"]![0]!["shape"]![0] = -3), "$.rows[0]", "negative dimension");
        Refused(Edit(n => n["setup"]!["hyperparameters"]!["learningRate"] = 0), "$.setup.hyperparameters", "learningRate must be a finite number greater than 0");
        Refused(Edit(n => n["setup"]!["headDim"] = 48), "$.setup", "headDim 48 must divide");
        Refused(Edit(n => n["rows"]![1]!["name"] = "wte.weight"), "$", "two rows named 'wte.weight'");
        Refused(Edit(n => n["rows"]![0]!["rule"]!["explained"]!["adamEpsilon"]!["value"] = 0), "$.rows[0].rule", "adamEpsilon");
    }

    [Fact]
    public void Over_long_and_over_deep_documents_are_refused_before_reading()
    {
        string json = SampleJson();
        var act = () => PlanJson.Deserialize(json, maxLength: json.Length - 1);
        act.Should().ThrowExactly<JsonException>().Which.Message.Should().Contain($"{json.Length} characters long").And.Contain("PlanJson.Deserialize(json, maxLength)");
        PlanJson.Deserialize(json, maxLength: json.Length).Rows.Should().HaveCount(2);

        string deep = json.Replace("\"reason\": \"tiedReadout\"", "\"reason\": " + new string('[', 40) + new string(']', 40), StringComparison.Ordinal);
        var deeper = () => PlanJson.Deserialize(deep);
        deeper.Should().ThrowExactly<JsonException>().Which.Message.Should().Contain("depth").And.Contain("not valid JSON");

        ((Action)(() => PlanJson.Deserialize(json, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxLength");
    }

    [Fact]
    public void A_large_plan_round_trips()
    {
        var plan = RandomPlan(new Random(3), rowCount: 5000);
        string json = PlanJson.Serialize(plan);
        json.Length.Should().BeGreaterThan(4_000_000);
        PlanJson.Deserialize(json).Should().Be(plan);
    }

    /// <summary>Random edits of a valid document: syntax, structure, types, enum names, numbers.</summary>
    private static string Mutate(string json, Random random)
    {
        switch (random.Next(8))
        {
            case 0:
                return json[..random.Next(json.Length)];
            case 1:
            {
                var chars = json.ToCharArray();
                int at = random.Next(chars.Length);
                const string Replacements = "{}[]\",:0-e.x \\";
                chars[at] = Replacements[random.Next(Replacements.Length)];
                return new string(chars);
            }

            default:
            {
                var root = JsonNode.Parse(json)!;
                var nodes = new List<JsonNode>();
                void Walk(JsonNode? n)
                {
                    if (n is null)
                    {
                        return;
                    }

                    nodes.Add(n);
                    if (n is JsonObject o)
                    {
                        foreach (var p in o.ToList())
                        {
                            Walk(p.Value);
                        }
                    }
                    else if (n is JsonArray a)
                    {
                        foreach (var item in a.ToList())
                        {
                            Walk(item);
                        }
                    }
                }

                Walk(root);
                var target = nodes[random.Next(nodes.Count)];
                JsonNode? replacement = random.Next(9) switch
                {
                    0 => null,
                    1 => JsonValue.Create("hiddenWeight"),
                    2 => JsonValue.Create(random.Next(-5, 5)),
                    3 => JsonNode.Parse($"{random.Next(1, 10)}e{random.Next(-400, 400)}"), // beyond a double's range too
                    4 => JsonValue.Create(random.Next(2) == 0),
                    5 => new JsonArray(1, 2),
                    6 => new JsonObject { ["value"] = 1 },
                    7 => JsonValue.Create("x" + random.Next(100)),
                    _ => JsonValue.Create(long.MaxValue),
                };
                if (target.Parent is JsonObject parent)
                {
                    string key = parent.First(p => ReferenceEquals(p.Value, target)).Key;
                    switch (random.Next(3))
                    {
                        case 0:
                            parent.Remove(key);
                            break;
                        case 1:
                            parent["extra" + random.Next(10)] = replacement;
                            break;
                        default:
                            parent[key] = replacement;
                            break;
                    }
                }
                else if (target.Parent is JsonArray array)
                {
                    int index = array.IndexOf(target);
                    if (random.Next(2) == 0)
                    {
                        array.RemoveAt(index);
                    }
                    else
                    {
                        array[index] = replacement;
                    }
                }

                return root.ToJsonString(new JsonSerializerOptions { WriteIndented = random.Next(2) == 0 });
            }
        }
    }

    [Fact]
    public void Mutated_documents_give_a_plan_or_an_error_with_its_path_never_another_exception()
    {
        var random = new Random(11);
        var bases = Enumerable.Range(0, 8).Select(_ => PlanJson.Serialize(RandomPlan(random, rowCount: random.Next(1, 6)))).ToList();
        int read = 0, refused = 0;
        var messages = new StringBuilder();
        for (int i = 0; i < 4000; i++)
        {
            string mutated = Mutate(bases[i % bases.Count], random);
            ParameterizationPlan plan;
            try
            {
                plan = PlanJson.Deserialize(mutated);
            }
            catch (JsonException e)
            {
                refused++;
                e.Message.Should().StartWith("$", "mutation {0} of document {1}: {2}", i, i % bases.Count, e.Message);
                e.Path.Should().NotBeNull("mutation {0}: {1}", i, e.Message);
                e.Message.Should().NotContain("Exception", "the message reads as a sentence, not a type name ({0})", e.Message);
                continue;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"mutation {i} of document {i % bases.Count} threw {e.GetType().Name}, not a JsonException: {e.Message}\n{mutated}", e);
            }

            // Accepted (a mutation that kept the document valid): it is a plan that round-trips.
            read++;
            PlanJson.Deserialize(PlanJson.Serialize(plan)).Should().Be(plan);
        }

        refused.Should().BeGreaterThan(3000);
        read.Should().BeGreaterThan(0, "some mutations keep the document valid (a changed number or name)");
    }
}
