using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// Rules at shapes and exponents outside the golden file, computed by hand from rules.md's table.
public sealed class HandComputedRulesTests
{
    private const double Eta = 0.006;
    private const double Sigma = 0.02;
    private const double Lambda = 0.05;
    private const double Eps = 1e-8;

    // alpha 0.75, width 96 -> 1536 (m_N = 16), depth 3 -> 48 (m_L = 16), d_head 48.
    // m_L^-alpha = 1/8, m_L^(alpha-1) = 1/2, m_N^-1/2 = 1/4.
    private static RuleSet Alpha075() =>
        Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48, Eta, Sigma, Lambda, Eps);

    [Fact]
    public void Alpha_075_model_multipliers()
    {
        var rules = Alpha075();
        rules.WidthMultiplier.Should().Be(16);
        rules.DepthMultiplier.Should().Be(16);
        rules.Multipliers.Residual.Value.ShouldBeRelative(0.125, 1e-12, "residual");
        rules.Multipliers.Output.Value.ShouldBeRelative(1.0 / 16, 1e-12, "output");
        rules.Multipliers.Embedding.Value.Should().Be(1.0);
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(1.0 / 48, 1e-12, "attention");
    }

    [Fact]
    public void Alpha_075_every_role()
    {
        var rules = Alpha075();
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta / 2, 0, Eps / 128);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / 4, Eta / 32, Lambda * 16, Eps / 128);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta / 2, 0, Eps / 128);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps);
        rules.Roles.Keys.Should().BeEquivalentTo(Enum.GetValues<TensorRole>());
        rules.Roles.Values.Should().OnlyContain(r => r.Source.Contains("Table 1"));
    }

    [Fact]
    public void Alpha_075_role_rules_carry_role_and_width()
    {
        var rules = Alpha075();
        foreach (var (role, rule) in rules.Roles)
        {
            rule.Role.Should().Be(role);
            rule.IsBias.Should().BeFalse();
            rule.WidthMultiplier.Should().Be(16);
        }
    }

    [Fact]
    public void CompleteP_every_role()
    {
        // width 256 -> 1024 (m_N = 4), depth 2 -> 18 (m_L = 9), alpha 1.
        var rules = Rules(Parameterization.CompleteP, 256, 2, 1024, 18, 64, Eta, Sigma, Lambda, Eps);
        rules.Multipliers.Residual.Value.ShouldBeRelative(1.0 / 9, 1e-12, "residual");
        rules.Multipliers.Output.Value.ShouldBeRelative(0.25, 1e-12, "output");
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(1.0 / 64, 1e-12, "attention");
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps / 36, 1.0 / 9);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / 2, Eta / 4, Lambda * 4, Eps / 36, 1.0 / 9);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps / 36, 1.0 / 9);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 0.25);
    }

    [Fact]
    public void DepthMuP_every_role()
    {
        // width fixed at 64, depth 4 -> 64 (m_L = 16), alpha 0.5: m_L^-alpha = m_L^(alpha-1) = 1/4.
        var rules = Rules(Parameterization.DepthMuP, 64, 4, 64, 64, 16, Eta, Sigma, Lambda, Eps);
        rules.Setup.Parameterization.DepthExponent.Should().Be(0.5);
        rules.Multipliers.Residual.Value.ShouldBeRelative(0.25, 1e-12, "residual");
        rules.Multipliers.Output.Value.Should().Be(1.0);
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(1.0 / 16, 1e-12, "attention");
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta / 4, 0, Eps / 4, 0.25);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma, Eta / 4, Lambda, Eps / 4, 0.25);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta / 4, 0, Eps / 4, 0.25);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
    }

    [Fact]
    public void MuP_with_depth_change_has_no_depth_factor()
    {
        // width 64 -> 256 (m_N = 4), depth 2 -> 32 (m_L = 16): muP ignores m_L.
        var rules = Rules(Parameterization.MuP, 64, 2, 256, 32, 16, Eta, Sigma, Lambda, Eps);
        rules.DepthMultiplier.Should().Be(16);
        rules.Multipliers.Residual.Value.Should().Be(1.0);
        rules.Multipliers.Output.Value.ShouldBeRelative(0.25, 1e-12, "output");
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(1.0 / 16, 1e-12, "attention");
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps / 4, 1.0);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / 2, Eta / 4, Lambda * 4, Eps / 4, 1.0);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps / 4, 1.0);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 0.25);
    }

    [Fact]
    public void SP_gives_every_base_value()
    {
        // width 128 -> 1024, depth 2 -> 24, d_head 64: nothing scales; attention 1/sqrt(64).
        var options = new RuleOptions { OutputMultiplier = 2.5, AttentionMultiplier = 3.0, InputMultiplier = 1.5 };
        var rules = Rules(Parameterization.Standard, 128, 2, 1024, 24, 64, Eta, Sigma, Lambda, Eps, options);
        rules.Multipliers.Residual.Value.Should().Be(1.0);
        rules.Multipliers.Output.Value.Should().Be(2.5);
        rules.Multipliers.Embedding.Value.Should().Be(1.5);
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(3.0 / 8, 1e-12, "attention");
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.5);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 2.5);
    }

    [Fact]
    public void A_multiplier_folded_into_a_norm_scales_its_constant_gain_init_like_a_std()
    {
        // The logit multiplier of a tied readout is folded into the final norm: V = c g starts at c, a shift at 0.
        var rules = Rules(Parameterization.MuP, 128, 2, 512, 2, 64, Eta, Sigma, Lambda, Eps);
        var fold = new FoldedMultiplier(MultiplierKind.Output, ScaledValue.Constant(0.25));

        var gain = rules[TensorRole.FinalNorm].Folded(fold);
        gain.InitKind.Should().Be(InitKind.Constant);
        gain.InitValue.Should().Be(0.25);
        gain.LearningRate.Should().Be(Eta * 0.25);
        gain.AdamEpsilon.Should().Be(Eps / 0.25);
        rules.RuleFor(new TensorDescriptor(TensorRole.FinalNorm, isBias: true)).Folded(fold).InitValue.Should().Be(0.0, "a zero shift stays zero");
    }

    [Fact]
    public void SP_ignores_epsilon_scope_and_fan_ins()
    {
        var options = new RuleOptions { EpsilonScope = EpsilonScope.Global };
        var rules = Rules(Parameterization.Standard, 128, 2, 1024, 24, 64, Eta, Sigma, Lambda, Eps, options);
        foreach (var rule in rules.Roles.Values)
        {
            rule.AdamEpsilon.Should().Be(Eps);
        }

        var down = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 4096, baseFanIn: 512));
        down.ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
    }

    [Fact]
    public void Gpt2_option_scales_only_residual_output_projections_under_SP()
    {
        // depth 8: sigma / sqrt(2 * 8) = sigma / 4.
        var options = new RuleOptions { Gpt2OutputProjectionInit = true };
        var rules = Rules(Parameterization.Standard, 128, 2, 256, 8, 64, Eta, Sigma, Lambda, Eps, options);

        var cProj = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: true));
        cProj.ShouldHave(InitKind.Normal, Sigma / 4, Eta, Lambda, Eps, 1.0);
        cProj.Explained.Init.Value.Formula.Should().Be("sigma / sqrt(2L)");

        var cFc = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: false));
        cFc.ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenWeight].InitValue.Should().Be(Sigma);
        rules[TensorRole.Embedding].InitValue.Should().Be(Sigma);
        rules[TensorRole.Unembedding].InitValue.Should().Be(Sigma);
    }

    [Fact]
    public void Gpt2_option_is_off_by_default()
    {
        var rules = Rules(Parameterization.Standard, 128, 2, 256, 8, 64, Eta, Sigma, Lambda, Eps);
        RuleOptions.Default.Gpt2OutputProjectionInit.Should().BeFalse();
        rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: true))
            .InitValue.Should().Be(Sigma);
    }

    [Fact]
    public void Residual_output_projection_flag_does_not_change_muP_or_CompleteP_init()
    {
        var rules = Alpha075();
        rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, isResidualOutputProjection: true))
            .ShouldHave(InitKind.Normal, Sigma / 4, Eta / 32, Lambda * 16, Eps / 128, 0.125);
    }

    [Theory]
    [InlineData("mup")]
    [InlineData("completep")]
    [InlineData("depth-mup")]
    [InlineData("alpha=0.75")]
    public void Gpt2_option_with_width_rules_throws_naming_options(string name)
    {
        var options = new RuleOptions { Gpt2OutputProjectionInit = true };
        var act = () => Setup(Parameterization.Parse(name), 128, 2, 256, 8, 64, options: options);
        act.Should().ThrowExactly<ArgumentException>()
            .Which.Should().Match<ArgumentException>(e => e.ParamName == "options" && e.Message.Contains("Gpt2OutputProjectionInit"));
    }

    [Fact]
    public void Global_epsilon_scope_scales_every_role()
    {
        var options = new RuleOptions { EpsilonScope = EpsilonScope.Global };
        var rules = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48, Eta, Sigma, Lambda, Eps, options);
        foreach (var (role, rule) in rules.Roles)
        {
            rule.AdamEpsilon.ShouldBeRelative(Eps / 128, 1e-12, role + " eps");
            rule.Explained.AdamEpsilon.Formula.Should().Be("eps * m_N^-1 * m_L^-alpha");
        }

        foreach (var role in new[] { TensorRole.Unembedding, TensorRole.FinalNorm, TensorRole.HiddenNorm })
        {
            rules.RuleFor(new TensorDescriptor(role, isBias: true)).AdamEpsilon.ShouldBeRelative(Eps / 128, 1e-12, role + " bias eps");
        }

        // Everything else is unchanged.
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps / 128);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / 4, Eta / 32, Lambda * 16, Eps / 128);
    }

    [Fact]
    public void Global_epsilon_scope_under_muP_has_no_depth_factor()
    {
        var options = new RuleOptions { EpsilonScope = EpsilonScope.Global };
        var rules = Rules(Parameterization.MuP, 64, 2, 256, 32, 16, Eta, Sigma, Lambda, Eps, options);
        foreach (var (role, rule) in rules.Roles)
        {
            rule.AdamEpsilon.ShouldBeRelative(Eps / 4, 1e-12, role + " eps");
        }
    }

    [Fact]
    public void Default_epsilon_scope_is_residual_blocks()
    {
        RuleOptions.Default.EpsilonScope.Should().Be(EpsilonScope.ResidualBlocks);
        RuleOptions.Default.WeightDecayConvention.Should().Be(WeightDecayConvention.Coupled);
        var rules = Alpha075();
        rules[TensorRole.Embedding].AdamEpsilon.Should().Be(Eps);
        rules[TensorRole.FinalNorm].AdamEpsilon.Should().Be(Eps);
        rules[TensorRole.Unembedding].AdamEpsilon.Should().Be(Eps);
    }

    [Fact]
    public void Independent_weight_decay_gives_lambda_times_depth_factor()
    {
        var options = new RuleOptions { WeightDecayConvention = WeightDecayConvention.Independent };
        var rules = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48, Eta, Sigma, Lambda, Eps, options);
        rules[TensorRole.HiddenWeight].WeightDecay.ShouldBeRelative(Lambda / 2, 1e-12, "independent hidden wd");
        rules[TensorRole.HiddenWeight].Explained.WeightDecay.Formula.Should().Be("lambda * m_L^(alpha-1)");
        rules[TensorRole.HiddenWeight].LearningRate.ShouldBeRelative(Eta / 32, 1e-12, "hidden lr");
        rules[TensorRole.Embedding].WeightDecay.Should().Be(Lambda);
        rules[TensorRole.Unembedding].WeightDecay.Should().Be(Lambda);
        rules[TensorRole.HiddenNorm].WeightDecay.Should().Be(0);
        rules[TensorRole.HiddenBias].WeightDecay.Should().Be(0);
        rules[TensorRole.FinalNorm].WeightDecay.Should().Be(0);

        // Independent of width: a 4x narrower target at the same depth gets the same value.
        var narrow = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 384, 48, 48, Eta, Sigma, Lambda, Eps, options);
        narrow[TensorRole.HiddenWeight].WeightDecay.Should().Be(rules[TensorRole.HiddenWeight].WeightDecay);
    }

    [Fact]
    public void Independent_weight_decay_under_CompleteP_is_lambda()
    {
        var options = new RuleOptions { WeightDecayConvention = WeightDecayConvention.Independent };
        var rules = Rules(Parameterization.CompleteP, 64, 2, 512, 16, 64, Eta, Sigma, Lambda, Eps, options);
        rules[TensorRole.HiddenWeight].WeightDecay.ShouldBeRelative(Lambda, 1e-12, "m_L^0");
    }

    [Fact]
    public void Per_tensor_width_multiplier_with_fixed_expansion_equals_model_rules()
    {
        var rules = Alpha075();
        var down = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 4 * 1536, baseFanIn: 4 * 96));
        down.WidthMultiplier.Should().Be(16);
        down.ShouldHave(InitKind.Normal, Sigma / 4, Eta / 32, Lambda * 16, Eps / 128, 0.125);
        down.Should().BeEquivalentTo(rules[TensorRole.HiddenWeight]);
    }

    [Fact]
    public void Per_tensor_width_multiplier_of_a_non_scaling_fan_in_gives_base_lr_times_depth_factor()
    {
        var rules = Alpha075();
        var fixedFanIn = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 1536, baseFanIn: 1536));
        fixedFanIn.WidthMultiplier.Should().Be(1);
        // eta * 1^-1 * 16^-0.25, sigma * 1^-1/2, lambda * 1, eps * 1^-1 * 16^-0.75.
        fixedFanIn.ShouldHave(InitKind.Normal, Sigma, Eta / 2, Lambda, Eps / 8, 0.125);
    }

    [Fact]
    public void Per_tensor_width_multiplier_uses_the_tensor_ratio_not_the_model_ratio()
    {
        // Model m_N = 16, tensor fan-in 64 -> 256 (ratio 4).
        var rules = Alpha075();
        var rule = rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight, fanIn: 256, baseFanIn: 64));
        rule.WidthMultiplier.Should().Be(4);
        rule.ShouldHave(InitKind.Normal, Sigma / 2, Eta / 8, Lambda * 4, Eps / 32, 0.125);
    }

    [Fact]
    public void Bias_and_gain_rows()
    {
        var rules = Alpha075();
        rules.RuleFor(new TensorDescriptor(TensorRole.HiddenNorm, isBias: true))
            .ShouldHave(InitKind.Constant, 0.0, Eta / 2, 0, Eps / 128, 0.125);
        rules.RuleFor(new TensorDescriptor(TensorRole.HiddenNorm, isBias: false))
            .ShouldHave(InitKind.Constant, 1.0, Eta / 2, 0, Eps / 128, 0.125);
        rules.RuleFor(new TensorDescriptor(TensorRole.FinalNorm, isBias: true))
            .ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps, 1.0);
        rules.RuleFor(new TensorDescriptor(TensorRole.FinalNorm, isBias: false))
            .ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules.RuleFor(new TensorDescriptor(TensorRole.HiddenBias, isBias: true))
            .ShouldHave(InitKind.Constant, 0.0, Eta / 2, 0, Eps / 128, 0.125);

        var unembeddingBias = rules.RuleFor(new TensorDescriptor(TensorRole.Unembedding, isBias: true));
        unembeddingBias.IsBias.Should().BeTrue();
        unembeddingBias.ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps, 1.0 / 16);

        rules.RuleFor(new TensorDescriptor(TensorRole.Embedding, isBias: true))
            .ShouldHave(InitKind.Constant, 0.0, Eta, 0, Eps, 1.0);
    }

    [Fact]
    public void Tunable_multipliers_flow_into_model_multipliers()
    {
        var options = new RuleOptions { InputMultiplier = 3.0, OutputMultiplier = 2.0, AttentionMultiplier = 0.5 };
        var rules = Rules(Parameterization.WithDepthExponent(0.75), 96, 3, 1536, 48, 48, Eta, Sigma, Lambda, Eps, options);
        rules.Multipliers.Embedding.Value.Should().Be(3.0);
        rules.Multipliers.Output.Value.ShouldBeRelative(2.0 / 16, 1e-12, "output");
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(0.5 / 48, 1e-12, "attention");
        rules.Multipliers.Residual.Value.ShouldBeRelative(0.125, 1e-12, "residual is not tunable");

        var mup = Rules(Parameterization.MuP, 64, 2, 256, 32, 16, Eta, Sigma, Lambda, Eps, options);
        mup.Multipliers.Output.Value.ShouldBeRelative(0.5, 1e-12, "mup output");
        mup.Multipliers.AttentionScale.Value.ShouldBeRelative(0.5 / 16, 1e-12, "mup attention");
        mup.Multipliers.Embedding.Value.Should().Be(3.0);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.6)]
    [InlineData(0.75)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void Any_alpha_matches_the_table_as_written(double alpha)
    {
        // width 64 -> 192 (m_N = 3), depth 5 -> 35 (m_L = 7).
        var rules = Rules(Parameterization.WithDepthExponent(alpha), 64, 5, 192, 35, 32, Eta, Sigma, Lambda, Eps);
        double mN = 3, mL = 7;
        double residual = Math.Pow(mL, -alpha), depthLr = Math.Pow(mL, alpha - 1), epsBlock = Eps / mN * Math.Pow(mL, -alpha);
        rules.Multipliers.Residual.Value.ShouldBeRelative(residual, 1e-12, "residual");
        rules.Multipliers.Output.Value.ShouldBeRelative(1 / mN, 1e-12, "output");
        rules.Multipliers.AttentionScale.Value.ShouldBeRelative(1.0 / 32, 1e-12, "attention");
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1.0);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1.0, Eta * depthLr, 0, epsBlock, residual);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / Math.Sqrt(mN), Eta / mN * depthLr, Lambda * mN, epsBlock, residual);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0.0, Eta * depthLr, 0, epsBlock, residual);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1.0, Eta, 0, Eps, 1.0);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps, 1 / mN);
    }

    [Fact]
    public void Shrinking_the_model_scales_up()
    {
        // Target narrower and shallower than base: m_N = 1/2, m_L = 1/4, CompleteP.
        var rules = Rules(Parameterization.CompleteP, 256, 8, 128, 2, 64, Eta, Sigma, Lambda, Eps);
        rules.Multipliers.Residual.Value.ShouldBeRelative(4, 1e-12, "residual");
        rules.Multipliers.Output.Value.ShouldBeRelative(2, 1e-12, "output");
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma * Math.Sqrt(2), Eta * 2, Lambda / 2, Eps * 8, 4);
    }
}
