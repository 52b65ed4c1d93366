using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// Each number carries the formula that produced it and the formula with the numbers put in.
public sealed class ExplanationTests
{
    [Fact]
    public void CompleteP_formulas()
    {
        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 8, 16);
        var w = rules[TensorRole.HiddenWeight];
        w.Explained.LearningRate.Formula.Should().Be("eta * m_N^-1 * m_L^(alpha-1)");
        w.Explained.Init.Value.Formula.Should().Be("sigma * m_N^-1/2");
        w.Explained.AdamEpsilon.Formula.Should().Be("eps * m_N^-1 * m_L^-alpha");
        w.Explained.WeightDecay.Formula.Should().StartWith("lambda * m_N^");
        rules[TensorRole.HiddenNorm].Explained.LearningRate.Formula.Should().Be("eta * m_L^(alpha-1)");
        rules[TensorRole.HiddenBias].Explained.LearningRate.Formula.Should().Be("eta * m_L^(alpha-1)");
        rules[TensorRole.Embedding].Explained.LearningRate.Formula.Should().Be("eta");
        rules[TensorRole.Embedding].Explained.AdamEpsilon.Formula.Should().Be("eps");
        rules[TensorRole.FinalNorm].Explained.LearningRate.Formula.Should().Be("eta");
        rules.Multipliers.Residual.Formula.Should().Contain("m_L^-alpha");
        rules.Multipliers.Output.Formula.Should().Be("alpha_out * m_N^-1");
        rules.Multipliers.AttentionScale.Formula.Should().Be("alpha_attn / d_head");
        rules.Multipliers.Embedding.Formula.Should().Be("alpha_in");
    }

    [Fact]
    public void MuP_formulas_have_no_depth_factor()
    {
        var rules = Rules(Parameterization.MuP, 64, 2, 128, 8, 16);
        rules[TensorRole.HiddenWeight].Explained.LearningRate.Formula.Should().Be("eta * m_N^-1");
        rules[TensorRole.HiddenWeight].Explained.AdamEpsilon.Formula.Should().Be("eps * m_N^-1");
        rules[TensorRole.HiddenNorm].Explained.LearningRate.Formula.Should().Be("eta");
        rules.Multipliers.Residual.Formula.Should().NotContain("m_L");
        rules.Multipliers.AttentionScale.Formula.Should().Be("alpha_attn / d_head");
        foreach (var rule in rules.Roles.Values)
        {
            rule.Explained.LearningRate.Formula.Should().NotContain("m_L");
            rule.Explained.AdamEpsilon.Formula.Should().NotContain("m_L");
            rule.Explained.Init.Value.Formula.Should().NotContain("m_L");
        }
    }

    [Fact]
    public void SP_formulas_are_bare_symbols()
    {
        var rules = Rules(Parameterization.Standard, 64, 2, 128, 8, 16);
        rules[TensorRole.HiddenWeight].Explained.LearningRate.Formula.Should().Be("eta");
        rules[TensorRole.HiddenWeight].Explained.Init.Value.Formula.Should().Be("sigma");
        rules[TensorRole.HiddenWeight].Explained.WeightDecay.Formula.Should().Be("lambda");
        rules[TensorRole.HiddenWeight].Explained.AdamEpsilon.Formula.Should().Be("eps");
        rules.Multipliers.AttentionScale.Formula.Should().Be("alpha_attn / sqrt(d_head)");
        rules.Multipliers.Output.Formula.Should().Be("alpha_out");
    }

    [Fact]
    public void Substitution_and_ToString_show_the_numbers()
    {
        // alpha 0.75, m_N = 16, m_L = 16, eta 0.006 -> 0.006 / 32 = 0.0001875.
        var rules = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48, lr: 0.006);
        var lr = rules[TensorRole.HiddenWeight].Explained.LearningRate;
        lr.Substitution.Should().Be("0.006 * 16^-1 * 16^-0.25");
        lr.ToString().Should().Be("eta * m_N^-1 * m_L^(alpha-1) = 0.006 * 16^-1 * 16^-0.25 = 0.0001875");
        lr.ToString().Should().Contain("0.006").And.Contain("16").And.Contain("0.0001875");

        rules.Multipliers.Residual.ToString().Should().Contain("16^-0.75").And.EndWith("= 0.125");
        rules.Multipliers.AttentionScale.ToString().Should().Contain("/ 48");
    }

    [Fact]
    public void Constants_print_as_themselves()
    {
        var rules = Rules(Parameterization.CompleteP, 64, 2, 128, 8, 16);
        rules[TensorRole.HiddenNorm].Explained.Init.Value.ToString().Should().Be("1");
        rules[TensorRole.HiddenBias].Explained.Init.Value.ToString().Should().Be("0");
        rules[TensorRole.HiddenNorm].Explained.WeightDecay.ToString().Should().Be("0");
        ScaledValue.Constant(0.125).ToString().Should().Be("0.125");
        ScaledValue.Base("eta", 0.01).ToString().Should().Be("eta = 0.01 = 0.01");
    }

    [Fact]
    public void Scaled_value_arithmetic()
    {
        var v = ScaledValue.Base("eta", 0.01).Times("m_N", 4, -1, "-1").DividedBy("d_head", 2);
        v.Value.ShouldBeRelative(0.00125, 1e-15, "value");
        v.Formula.Should().Be("eta * m_N^-1 / d_head");
        v.Substitution.Should().Be("0.01 * 4^-1 / 2");
    }

    [Fact]
    public void Source_names_the_table_row_and_the_parameterization()
    {
        var rules = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48);
        rules[TensorRole.HiddenWeight].Source.Should().Contain("Table 1").And.Contain("hidden weight").And.Contain("alpha=0.75");
        rules[TensorRole.Unembedding].Source.Should().Contain("unembedding");
    }
}
