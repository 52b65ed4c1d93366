using FluentAssertions;

namespace CompleteP.Tests.Engine;

using static TestSupport;

// Batch size and training length (docs/rules.md, "Batch size and training length"), computed by hand.
public sealed class TrainingRulesTests
{
    private const double Eta = 0.01;
    private const double Sigma = 0.02;
    private const double Lambda = 0.1;
    private const double Eps = 1e-8;
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.95;

    // All four shapes at once. CompleteP (alpha 1): width 128 -> 512 (m_N = 4), depth 4 -> 16 (m_L = 4), d_head 32;
    // 8192 -> 32768 tokens per step (kappa = 4, sqrt(kappa) = 2), 1000 -> 4000 steps (S/S_base = 4).
    private static RuleSetup AllFour(RuleOptions? options = null, long baseTokensPerStep = 8192, long tokensPerStep = 32768) =>
        new(Parameterization.CompleteP, new ModelShape(128, 4), new ModelShape(512, 16), 32,
            new BaseHyperparameters(Eta, Sigma, Lambda, Eps, Beta1, Beta2), options,
            new TrainingShape(baseTokensPerStep, baseTokensPerStep * 1000), new TrainingShape(tokensPerStep, tokensPerStep * 4000));

    private static void ShouldHaveBetas(TensorRule rule, double beta1, double beta2)
    {
        rule.Beta1.ShouldBeRelative(beta1, 1e-12, rule.Role + " beta1");
        rule.Beta2.ShouldBeRelative(beta2, 1e-12, rule.Role + " beta2");
    }

    [Fact]
    public void A_plan_that_changes_width_depth_batch_and_length_at_once_matches_the_hand_computed_numbers()
    {
        var rules = RulesEngine.Compute(AllFour());
        rules.Setup.Training!.BatchMultiplier.Should().Be(4);
        rules.Setup.Training.StepMultiplier.Should().Be(4);

        // LR x sqrt(kappa) = x2; eps / sqrt(kappa) = /2; coupled decay / sqrt(kappa) * S_base/S = /8; CompleteP: m_L^(alpha-1) = 1, m_L^-alpha = 1/4.
        rules[TensorRole.Embedding].ShouldHave(InitKind.Normal, Sigma, Eta * 2, Lambda / 8, Eps / 2);
        rules[TensorRole.HiddenNorm].ShouldHave(InitKind.Constant, 1, Eta * 2, 0, Eps / 16 / 2);
        rules[TensorRole.HiddenWeight].ShouldHave(InitKind.Normal, Sigma / 2, Eta / 4 * 2, Lambda * 4 / 8, Eps / 16 / 2);
        rules[TensorRole.HiddenBias].ShouldHave(InitKind.Constant, 0, Eta * 2, 0, Eps / 16 / 2);
        rules[TensorRole.QkNorm].ShouldHave(InitKind.Constant, 1, Eta * 2, 0, Eps / 4 / 2);
        rules[TensorRole.BlockReadout].ShouldHave(InitKind.Normal, Sigma, Eta * 2, Lambda / 8, Eps / 4 / 2);
        rules[TensorRole.FinalNorm].ShouldHave(InitKind.Constant, 1, Eta * 2, 0, Eps / 2);
        rules[TensorRole.Unembedding].ShouldHave(InitKind.Normal, Sigma, Eta * 2, Lambda / 8, Eps / 2);
        foreach (var rule in rules.Roles.Values)
        {
            // 1 - kappa*(1 - beta): 1 - 4*0.1 and 1 - 4*0.05.
            ShouldHaveBetas(rule, 0.6, 0.8);
        }

        // The timescale: the total decay lr * wd * S of a hidden weight equals the base run's at the base shape.
        var hidden = rules[TensorRole.HiddenWeight];
        (hidden.LearningRate * hidden.WeightDecay * 4000).ShouldBeRelative(Eta * Lambda * 1000, 1e-12, "total decay");

        // Folding the residual multiplier m_L^-alpha = 1/4 comes after: the folded hidden weight's numbers.
        var folded = hidden.Folded(new FoldedMultiplier(MultiplierKind.Residual, rules.Multipliers.Residual));
        folded.ShouldHave(InitKind.Normal, Sigma / 2 / 4, Eta / 4 * 2 / 4, Lambda * 4 / 8 * 4, Eps / 16 / 2 * 4);
        ShouldHaveBetas(folded, 0.6, 0.8);
    }

    [Fact]
    public void For_random_setups_the_factors_multiply_table_1_for_every_role_and_keep_the_total_decay()
    {
        var random = new Random(16);
        string[] names = ["sp", "mup", "completep", "depth-mup", "alpha=0.75"];
        for (int i = 0; i < 300; i++)
        {
            int headDim = 16;
            var p = Parameterization.Parse(names[random.Next(names.Length)]);
            var baseShape = new ModelShape(headDim * random.Next(1, 16), random.Next(1, 8));
            var target = new ModelShape(headDim * random.Next(1, 64), random.Next(1, 48));
            var hp = new BaseHyperparameters(1e-3 * (1 + random.NextDouble()), 0.02, random.NextDouble(), 1e-8, 0.9, 0.95 + (random.NextDouble() * 0.049));
            var options = new RuleOptions { WeightDecayConvention = random.Next(2) == 0 ? WeightDecayConvention.Coupled : WeightDecayConvention.Independent };
            long baseB = random.Next(64, 4096), b = Math.Max(1, (long)(baseB * Math.Exp((random.NextDouble() * 4) - 2))); // kappa in [e^-2, e^2] < 10
            var baseRun = new TrainingShape(baseB, baseB * random.Next(10, 5000));
            var run = new TrainingShape(b, b * random.Next(10, 5000));
            var plain = RulesEngine.Compute(new RuleSetup(p, baseShape, target, headDim, hp, options));
            var moved = RulesEngine.Compute(new RuleSetup(p, baseShape, target, headDim, hp, options, baseRun, run));
            double kappa = (double)b / baseB, stepRatio = run.Steps / baseRun.Steps;
            foreach (var role in Enum.GetValues<TensorRole>())
            {
                string what = $"case {i} ({p}, {baseShape} -> {target}, kappa {kappa}, S/S_base {stepRatio}, {options.WeightDecayConvention}) {role}";
                var (x, y) = (plain[role], moved[role]);
                y.LearningRate.ShouldBeRelative(x.LearningRate * Math.Sqrt(kappa), 1e-12, what + " lr");
                y.AdamEpsilon.ShouldBeRelative(x.AdamEpsilon / Math.Sqrt(kappa), 1e-12, what + " eps");
                y.InitValue.Should().Be(x.InitValue, what);
                y.Beta1.ShouldBeRelative(1 - (kappa * 0.1), 1e-12, what + " beta1");
                // The decay a run applies in total, per-step decay (lr * wd coupled, wd independent) times steps, is the base run's.
                double perStep(TensorRule r) => options.WeightDecayConvention == WeightDecayConvention.Coupled ? r.LearningRate * r.WeightDecay : r.WeightDecay;
                (perStep(y) * run.Steps).ShouldBeRelative(perStep(x) * baseRun.Steps, 1e-12, what + " total decay");
            }
        }
    }

    [Fact]
    public void Independent_decay_keeps_the_per_step_decay_times_steps()
    {
        var rules = RulesEngine.Compute(AllFour(new RuleOptions { WeightDecayConvention = WeightDecayConvention.Independent }));
        // The value is the per-step decay: lambda * m_L^(alpha-1) * S_base/S, no sqrt(kappa).
        rules[TensorRole.HiddenWeight].WeightDecay.ShouldBeRelative(Lambda / 4, 1e-12, "hidden weight decay");
        rules[TensorRole.Embedding].WeightDecay.ShouldBeRelative(Lambda / 4, 1e-12, "embedding decay");
        rules[TensorRole.HiddenWeight].Explained.WeightDecay.Formula.Should().Be("lambda * m_L^(alpha-1) * (S_base/S)");
    }

    [Fact]
    public void Power_lines_scales_the_decay_by_tokens_per_parameter()
    {
        // TPP/TPP_base = (D/D_base) / (m_N^2 * m_L) = 16 / (16 * 4) = 1/4; m = -1/2: decay x (1/4)^(1/2) = x1/2.
        var rules = RulesEngine.Compute(AllFour(new RuleOptions { TimescaleExponent = -0.5 }));
        rules[TensorRole.HiddenWeight].WeightDecay.ShouldBeRelative(Lambda * 4 / 8 / 2, 1e-12, "hidden weight decay");
        rules[TensorRole.Unembedding].WeightDecay.ShouldBeRelative(Lambda / 8 / 2, 1e-12, "unembedding decay");
        rules[TensorRole.HiddenWeight].LearningRate.ShouldBeRelative(Eta / 4 * 2, 1e-12, "the learning rate is not touched");
        rules[TensorRole.HiddenWeight].Explained.WeightDecay.Formula.Should().Be("lambda * m_N^1 / sqrt(kappa) * (S_base/S) * (TPP/TPP_base)^-m");
        rules[TensorRole.HiddenWeight].Explained.WeightDecay.Substitution.Should().Be("0.1 * 4^1 / 2 * 0.25 * 0.25^0.5");
    }

    [Fact]
    public void The_formulas_show_sqrt_kappa_and_the_timescale_factors()
    {
        var e = RulesEngine.Compute(AllFour())[TensorRole.HiddenWeight].Explained;
        e.LearningRate.Formula.Should().Be("eta * m_N^-1 * m_L^(alpha-1) * sqrt(kappa)");
        e.AdamEpsilon.Formula.Should().Be("eps * m_N^-1 * m_L^-alpha / sqrt(kappa)");
        e.WeightDecay.Formula.Should().Be("lambda * m_N^1 / sqrt(kappa) * (S_base/S)");
        e.Beta1.Formula.Should().Be("1 - kappa*(1 - beta1)");
        e.Beta2.ToString().Should().Be("1 - kappa*(1 - beta2) = 1 - 4*(1 - 0.95) = 0.8");
        RulesEngine.Compute(AllFour())[TensorRole.Embedding].Source.Should().Contain("Malladi et al. 2022").And.Contain("Wang and Aitchison 2024");
    }

    [Fact]
    public void Without_training_shapes_nothing_changes_and_unit_ratios_give_the_same_doubles()
    {
        var plain = new RuleSetup(Parameterization.CompleteP, new ModelShape(128, 4), new ModelShape(512, 16), 32, new BaseHyperparameters(Eta, Sigma, Lambda, Eps, Beta1, Beta2));
        var same = plain with { };
        var unit = new RuleSetup(Parameterization.CompleteP, new ModelShape(128, 4), new ModelShape(512, 16), 32, new BaseHyperparameters(Eta, Sigma, Lambda, Eps, Beta1, Beta2),
            null, new TrainingShape(4096, 4096 * 300), new TrainingShape(4096, 4096 * 300));
        plain.Training.Should().BeNull();
        var a = RulesEngine.Compute(plain);
        var b = RulesEngine.Compute(unit);
        foreach (var role in Enum.GetValues<TensorRole>())
        {
            var e = a[role].Explained;
            foreach (var value in new[] { e.LearningRate, e.WeightDecay, e.AdamEpsilon, e.Beta1, e.Beta2 })
            {
                value.Formula.Should().NotContain("kappa").And.NotContain("S_base");
            }

            e.Beta1.Should().Be(ScaledValue.Base("beta1", Beta1));
            e.Beta2.Should().Be(ScaledValue.Base("beta2", Beta2));
            a[role].Source.Should().NotContain("Malladi");
            foreach (var (x, y) in new[] { (a[role].LearningRate, b[role].LearningRate), (a[role].WeightDecay, b[role].WeightDecay), (a[role].AdamEpsilon, b[role].AdamEpsilon),
                         (a[role].Beta1, b[role].Beta1), (a[role].Beta2, b[role].Beta2), (a[role].InitValue, b[role].InitValue) })
            {
                BitConverter.DoubleToInt64Bits(y).Should().Be(BitConverter.DoubleToInt64Bits(x), "{0}: kappa = 1 and S = S_base multiply by exactly 1", role);
            }
        }

        TrainingRules.Warnings(plain).Should().BeEmpty();
        RulesEngine.Compute(same).Roles.Should().Equal(a.Roles);
    }

    [Fact]
    public void A_batch_the_square_root_rule_cannot_reach_is_refused_naming_its_limit()
    {
        // beta1 0.9: kappa * 0.1 must stay below 1, so fewer than 1000 / 0.1 = 10000 tokens per step.
        var refused = FluentActions.Invoking(() => AllFour(baseTokensPerStep: 1000, tokensPerStep: 10_000)).Should().Throw<ArgumentOutOfRangeException>().Which;
        refused.ParamName.Should().Be("targetTraining");
        refused.Message.Should().Contain("hyperparameters.Beta1").And.Contain("square-root rule").And.Contain("at most 9999")
            .And.Contain("1 - kappa*(1 - beta1)").And.Contain("B_base / (1 - beta1) = 1000 / 0.1");
        TrainingRules.LargestTokensPerStep(1000, 0.9).Should().Be(9999);
        TrainingRules.LargestTokensPerStep(1000, 0.0).Should().Be(1000, "with beta 0 the batch cannot grow");

        // The largest batch the rule allows is accepted, with a beta1 of 1 - 9.999*0.1.
        var largest = RulesEngine.Compute(AllFour(baseTokensPerStep: 1000, tokensPerStep: 9999));
        largest[TensorRole.HiddenWeight].Beta1.ShouldBeRelative(1e-4, 1e-9, "beta1 = 1 - 9.999*0.1, to the cancellation of 1 - 0.9 in doubles");

        // beta2 0.95 limits first when beta1 is closer to 1.
        var byBeta2 = FluentActions.Invoking(() => new RuleSetup(Parameterization.CompleteP, new ModelShape(128, 4), new ModelShape(128, 4), 32,
            new BaseHyperparameters(Eta, Sigma, Lambda, Eps, 0.99, 0.95), null, new TrainingShape(100, 1000), new TrainingShape(2000, 20000)))
            .Should().Throw<ArgumentOutOfRangeException>().Which;
        byBeta2.Message.Should().Contain("hyperparameters.Beta2").And.Contain("at most 1999");

        // A smaller batch makes the betas larger: never refused.
        var smaller = RulesEngine.Compute(AllFour(baseTokensPerStep: 8192, tokensPerStep: 1024));
        smaller[TensorRole.Embedding].Beta1.ShouldBeRelative(1 - (0.125 * 0.1), 1e-12, "beta1");
        smaller[TensorRole.Embedding].LearningRate.ShouldBeRelative(Eta * Math.Sqrt(0.125), 1e-12, "lr");
    }

    [Fact]
    public void A_beta_below_one_half_is_a_warning()
    {
        // kappa 8: beta1 = 1 - 8*0.1 = 0.2 (warned), beta2 = 1 - 8*0.05 = 0.6 (not).
        var setup = AllFour(baseTokensPerStep: 1024, tokensPerStep: 8192);
        var warnings = TrainingRules.Warnings(setup);
        warnings.Should().ContainSingle();
        warnings[0].Severity.Should().Be(DiagnosticSeverity.Warning);
        warnings[0].Subject.Should().Be("(beta1)");
        warnings[0].Message.Should().Contain("0.2").And.Contain("below 0.5");
        TrainingRules.Warnings(AllFour()).Should().BeEmpty("kappa 4 gives 0.6 and 0.8");
    }

    [Fact]
    public void Training_shapes_come_both_or_neither_and_are_checked()
    {
        var hp = new BaseHyperparameters(Eta, Sigma);
        FluentActions.Invoking(() => new RuleSetup(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(64, 2), 32, hp, null, new TrainingShape(10, 100)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "targetTraining" && e.Message.Contains("both training shapes"));
        FluentActions.Invoking(() => new RuleSetup(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(64, 2), 32, hp, null, null, new TrainingShape(10, 100)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "baseTraining");
        FluentActions.Invoking(() => new RuleSetup(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(64, 2), 32, hp, new RuleOptions { TimescaleExponent = -0.5 }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "options" && e.Message.Contains("TimescaleExponent"));
        FluentActions.Invoking(() => new TrainingShape(0, 100)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "tokensPerStep");
        FluentActions.Invoking(() => new TrainingShape(100, 99)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "tokens" && e.Message.Contains("at least tokensPerStep (100"));
        FluentActions.Invoking(() => new BaseHyperparameters(Eta, Sigma, beta1: 1.0)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "beta1" && e.Message.Contains("[0, 1)"));
        FluentActions.Invoking(() => new BaseHyperparameters(Eta, Sigma, beta2: -0.1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "beta2");
        FluentActions.Invoking(() => new RuleOptions { TimescaleExponent = double.NaN }).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "TimescaleExponent");
        new BaseHyperparameters(Eta, Sigma).Beta1.Should().Be(0.9);
        new BaseHyperparameters(Eta, Sigma).Beta2.Should().Be(0.999);
    }

    [Fact]
    public void Warm_up_and_decay_lengths_carry_over_as_fractions_of_the_run()
    {
        var scaling = new TrainingScaling(new TrainingShape(1000, 300_000), new TrainingShape(4000, 2_400_000));
        scaling.BatchMultiplier.Should().Be(4);
        scaling.StepMultiplier.Should().Be(2, "300 -> 600 steps");
        scaling.TargetSteps(15).Should().Be(30);
        scaling.TargetSteps(0).Should().Be(0);
        new TrainingScaling(new TrainingShape(1000, 1_000_000), new TrainingShape(8000, 1_000_000)).TargetSteps(5).Should().Be(1, "5/8 rounds to 1; a warm-up stays at least one step");
        FluentActions.Invoking(() => scaling.TargetSteps(-1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "baseSteps");
    }

    [Fact]
    public void The_plan_json_carries_the_training_shapes_and_the_betas()
    {
        var rules = RulesEngine.Compute(AllFour(new RuleOptions { TimescaleExponent = -0.25 }));
        var plan = ParameterizationPlan.Create(rules, [new PlanRow("h.0.mlp.c_fc.weight", [512, 512], rules[TensorRole.HiddenWeight], residualBranch: "h.0.mlp")]);
        string json = PlanJson.Serialize(plan);
        json.Should().Contain("\"targetTraining\": {").And.Contain("\"tokensPerStep\": 32768").And.Contain("\"timescaleExponent\": -0.25")
            .And.Contain("\"formula\": \"1 - kappa*(1 - beta1)\"");
        var back = PlanJson.Deserialize(json);
        back.Should().Be(plan);
        back.Rows[0].Applied.Beta1.ShouldBeRelative(0.6, 1e-12, "beta1 read back");
        back.Setup.Training!.BatchMultiplier.Should().Be(4);
    }
}
