using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;


/// <summary>The nanoGPT port, parameterized by Apply, against the authors' reference implementation.</summary>
public class NanoGptGoldenTests
{
    public static TheoryData<string> Cases() => new(GoldenNames());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_parameter_matches_the_reference_implementation(string caseName)
    {
        var c = Golden(caseName);
        string kind = c.GetProperty("parameterization").GetString()!;
        var p = kind == "mup" ? Parameterization.MuP : Parameterization.WithDepthExponent(c.GetProperty("alpha").GetDouble());
        var b = c.GetProperty("base");
        manual_seed(0);
        using var model = BuildGpt(c.GetProperty("width").GetInt32(), c.GetProperty("depth").GetInt32(), c.GetProperty("headDim").GetInt32());
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);

        var plan = Parameterize.Apply(model, optimizer, Options(p, c.GetProperty("baseWidth").GetInt32(), c.GetProperty("baseDepth").GetInt32(),
            c.GetProperty("headDim").GetInt32(), b.GetProperty("learningRate").GetDouble(), b.GetProperty("initStd").GetDouble(),
            b.GetProperty("weightDecay").GetDouble(), b.GetProperty("adamEpsilon").GetDouble()));

        plan.Multipliers.Residual.Value.Should().BeApproximately(c.GetProperty("residualMultiplier").GetDouble(), 1e-12);
        plan.Multipliers.Output.Value.Should().BeApproximately(c.GetProperty("outputMultiplier").GetDouble(), 1e-12);
        plan.Multipliers.AttentionScale.Value.Should().BeApproximately(c.GetProperty("attentionScale").GetDouble(), 1e-12);

        var parameters = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var golden = c.GetProperty("parameters").EnumerateArray().ToList();
        plan.Rows.Select(r => r.Name).Should().Equal(golden.Select(g => g.GetProperty("name").GetString()), "the plan lists each tensor once, in nanoGPT's order");
        foreach (var g in golden)
        {
            string name = g.GetProperty("name").GetString()!;
            var row = plan[name];
            System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(row.Rule.Role.ToString()).Should().Be(g.GetProperty("role").GetString(), name);
            row.Shape.Should().Equal(g.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), name);

            // Table 1's rule, as the reference computes it...
            row.Rule.LearningRate.Should().BeApproximately(g.GetProperty("learningRate").GetDouble(), 1e-9 * g.GetProperty("learningRate").GetDouble(), name);
            row.Rule.WeightDecay.Should().BeApproximately(g.GetProperty("weightDecay").GetDouble(), 1e-12, name);
            row.Rule.AdamEpsilon.Should().BeApproximately(g.GetProperty("adamEpsilon").GetDouble(), 1e-9 * g.GetProperty("adamEpsilon").GetDouble(), name);

            // ...with the residual multiplier folded into exactly the tensors the reference multiplies (the c_proj outputs),
            // and the logit multiplier into the final norm that feeds the tied head.
            double fold = ExpectedFold(name, plan.Multipliers.Residual.Value, plan.Multipliers.Output.Value);
            (row.Folded?.Value.Value ?? 1.0).Should().Be(fold, name);
            var folded = FoldedGolden(g, fold);
            var (lr, wd, eps) = HyperparametersOf(optimizer, parameters[name]);
            lr.Should().BeApproximately(folded.Lr, 1e-9 * folded.Lr, name);
            wd.Should().BeApproximately(folded.Wd, 1e-12, name);
            eps.Should().BeApproximately(folded.Eps, 1e-9 * folded.Eps, name);

            double expectedStd = folded.Std;
            double measured = Std(parameters[name]);
            if (expectedStd == 0)
            {
                measured.Should().Be(0, name);
            }
            else
            {
                // A sample std over n draws is within a few 1/sqrt(2n) of the true std.
                double n = parameters[name].numel();
                measured.Should().BeApproximately(expectedStd, expectedStd * Math.Max(0.02, 6 / Math.Sqrt(2 * n)), name);
            }
        }
    }

    [Fact]
    public void The_tied_head_is_one_tensor_listed_once_with_its_other_name()
    {
        using var model = BuildGpt(128, 2);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 2, 16));

        plan.Rows.Should().NotContain(r => r.Name == "lm_head.weight");
        plan["transformer.wte.weight"].SharedWith.Should().Equal("lm_head.weight");
        plan["transformer.wte.weight"].Rule.Role.Should().Be(TensorRole.Embedding);
        optimizer.ParamGroups.SelectMany(g => ((TorchSharp.Modules.ParamGroup)g).Parameters).Count()
            .Should().Be(model.parameters().Select(p => p.Handle).Distinct().Count());
    }

    [Fact]
    public void Residual_branches_readout_and_attention_are_found()
    {
        using var model = BuildGpt(64, 3);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, 64, 1, 16));

        plan.Rows.Where(r => r.ResidualBranch is not null).Select(r => r.ResidualBranch).Distinct().Should().BeEquivalentTo(
            Enumerable.Range(0, 3).SelectMany(i => new[] { $"transformer.h.{i}.attn", $"transformer.h.{i}.mlp" }));
        plan["transformer.ln_f.weight"].Rule.Role.Should().Be(TensorRole.FinalNorm);
        model.Transformer.H[0].Attention.AttentionScale.Should().Be(1.0 / 16);
    }
}
