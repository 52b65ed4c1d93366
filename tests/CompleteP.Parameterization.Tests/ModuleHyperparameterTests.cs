using FluentAssertions;

namespace CompleteP.Tests.Engine;

// Per-module base hyperparameters (issue 16, item 3): factors on the base values, applied before Table 1's and the
// batch/length factors, so they transfer by the same rules.
public sealed class ModuleHyperparameterTests
{
    private const double Eta = 0.01;
    private const double Sigma = 0.02;
    private const double Lambda = 0.1;
    private const double Eps = 1e-8;

    private static readonly (string Name, TensorRole Role, bool IsBias)[] Tensors =
    [
        ("wte.weight", TensorRole.Embedding, false),
        ("h.0.ln_1.weight", TensorRole.HiddenNorm, false),
        ("h.0.attn.c_attn.weight", TensorRole.HiddenWeight, false),
        ("h.0.attn.c_attn.bias", TensorRole.HiddenBias, true),
        ("h.0.mlp.c_fc.weight", TensorRole.HiddenWeight, false),
        ("h.0.mlp.c_proj.weight", TensorRole.HiddenWeight, false),
        ("h.1.mlp.c_fc.weight", TensorRole.HiddenWeight, false),
        ("ln_f.weight", TensorRole.FinalNorm, false),
        ("lm_head.weight", TensorRole.Unembedding, false),
    ];

    // CompleteP (alpha = 1), 64x2 -> 256x8: m_N = 4, m_L = 4.
    private static RuleSetup Setup(IReadOnlyList<ModuleHyperparameter>? modules, TrainingShape? baseTraining = null, TrainingShape? targetTraining = null) =>
        new(Parameterization.CompleteP, new ModelShape(64, 2), new ModelShape(256, 8), 16,
            new BaseHyperparameters(Eta, Sigma, Lambda, Eps, modules: modules), baseTraining: baseTraining, targetTraining: targetTraining);

    private static ParameterizationPlan Plan(RuleSetup setup)
    {
        var rules = RulesEngine.Compute(setup);
        return ParameterizationPlan.Create(rules, Tensors.Select(t =>
            new PlanRow(t.Name, [4, 4], rules.RuleFor(new TensorDescriptor(t.Role, t.IsBias), [t.Name]), residualBranch: t.Name.StartsWith("h.", StringComparison.Ordinal) ? t.Name[..8] : null)));
    }

    private static readonly ModuleHyperparameter[] EmbeddingLrMlpInit =
        [ModuleHyperparameter.Parse("embedding.lr=2"), ModuleHyperparameter.Parse("h.*.mlp.*.init=0.5")];

    [Fact]
    public void Hand_computed_plan_with_an_embedding_lr_and_an_mlp_init_factor_at_256x8_from_64x2()
    {
        var plan = Plan(Setup(EmbeddingLrMlpInit));

        // Embedding: sigma, 2 * eta, lambda, eps (no width or depth factor outside the blocks).
        plan["wte.weight"].Applied.ShouldHave(InitKind.Normal, Sigma, 2 * Eta, Lambda, Eps);
        // MLP hidden weights: 0.5 * sigma * m_N^-1/2, eta * m_N^-1 * m_L^0, lambda * m_N, eps * m_N^-1 * m_L^-1.
        plan["h.0.mlp.c_fc.weight"].Applied.ShouldHave(InitKind.Normal, 0.5 * Sigma / 2, Eta / 4, Lambda * 4, Eps / 16);
        plan["h.0.mlp.c_proj.weight"].Applied.ShouldHave(InitKind.Normal, 0.5 * Sigma / 2, Eta / 4, Lambda * 4, Eps / 16);
        plan["h.1.mlp.c_fc.weight"].Applied.ShouldHave(InitKind.Normal, 0.5 * Sigma / 2, Eta / 4, Lambda * 4, Eps / 16);
        // Attention weights are hidden weights too, but not matched by the pattern: Table 1 alone.
        plan["h.0.attn.c_attn.weight"].Applied.ShouldHave(InitKind.Normal, Sigma / 2, Eta / 4, Lambda * 4, Eps / 16);
        plan["lm_head.weight"].Applied.ShouldHave(InitKind.Normal, Sigma, Eta, Lambda, Eps);
        plan["h.0.ln_1.weight"].Applied.ShouldHave(InitKind.Constant, 1, Eta, 0, Eps / 16);
        plan["ln_f.weight"].Applied.ShouldHave(InitKind.Constant, 1, Eta, 0, Eps);
    }

    [Fact]
    public void Affected_tensors_get_factor_times_the_unmultiplied_plan_and_the_rest_are_unchanged()
    {
        var plain = Plan(Setup(null));
        var tuned = Plan(Setup(EmbeddingLrMlpInit));
        foreach (var (name, _, _) in Tensors)
        {
            var a = plain[name].Applied;
            var b = tuned[name].Applied;
            double lrFactor = name == "wte.weight" ? 2 : 1;
            double initFactor = name.Contains(".mlp.", StringComparison.Ordinal) ? 0.5 : 1;
            b.LearningRate.Should().Be(a.LearningRate * lrFactor, name);
            b.InitValue.Should().Be(a.InitValue * initFactor, name);
            b.WeightDecay.Should().Be(a.WeightDecay, name);
            b.AdamEpsilon.Should().Be(a.AdamEpsilon, name);
            if (lrFactor == 1 && initFactor == 1)
            {
                b.Should().Be(a, "{0} is selected by no entry", name);
            }
        }
    }

    [Fact]
    public void The_factor_is_in_the_formula_and_the_numbers()
    {
        var plan = Plan(Setup(EmbeddingLrMlpInit));
        var lr = plan["wte.weight"].Applied.Explained.LearningRate;
        lr.Formula.Should().Be("eta * hp[embedding.lr]");
        lr.Substitution.Should().Be("0.01 * 2");
        var init = plan["h.0.mlp.c_fc.weight"].Applied.Explained.Init.Value;
        init.Formula.Should().Be("sigma * hp[h.*.mlp.*.init] * m_N^-1/2");
        init.Substitution.Should().Be("0.02 * 0.5 * 4^-0.5");
        plan.ToTable().Should().Contain("per-module base hyperparameters: embedding.lr=2; h.*.mlp.*.init=0.5");
        plan.Setup.Hyperparameters.ToString().Should().Contain("Modules = [embedding.lr=2, h.*.mlp.*.init=0.5]");
        plan.ToTable(withFormulas: true).Should().Contain("eta * hp[embedding.lr]").And.Contain("sigma * hp[h.*.mlp.*.init] * m_N^-1/2");
    }

    [Fact]
    public void Batch_and_length_factors_compose_with_the_module_factor()
    {
        var b = new TrainingShape(8192, 8192L * 1000);
        var t = new TrainingShape(32768, 32768L * 4000);
        var plain = Plan(Setup(null, b, t));
        var tuned = Plan(Setup([new ModuleHyperparameter("hidden-weight", HyperparameterField.WeightDecay, 3), new ModuleHyperparameter("hidden-weight", HyperparameterField.AdamEpsilon, 0.25)], b, t));
        var name = "h.0.attn.c_attn.weight";
        tuned[name].Applied.WeightDecay.ShouldBeRelative(3 * plain[name].Applied.WeightDecay, 1e-15, "wd");
        tuned[name].Applied.AdamEpsilon.ShouldBeRelative(0.25 * plain[name].Applied.AdamEpsilon, 1e-15, "eps");
        tuned[name].Applied.LearningRate.Should().Be(plain[name].Applied.LearningRate);
        tuned["wte.weight"].Applied.Should().Be(plain["wte.weight"].Applied);
    }

    [Fact]
    public void Entries_that_select_the_same_tensor_multiply_in_any_order()
    {
        ModuleHyperparameter role = new("hidden-weight", HyperparameterField.LearningRate, 3);
        ModuleHyperparameter pattern = new("*.mlp.*", HyperparameterField.LearningRate, 2);
        var plan = Plan(Setup([role, pattern]));
        var reversed = Plan(Setup([pattern, role]));
        plan["h.0.mlp.c_fc.weight"].Applied.LearningRate.ShouldBeRelative(6 * Eta / 4, 1e-15, "mlp: both entries");
        plan["h.0.attn.c_attn.weight"].Applied.LearningRate.ShouldBeRelative(3 * Eta / 4, 1e-15, "attention: the role entry only");
        plan["h.0.attn.c_attn.bias"].Applied.LearningRate.ShouldBeRelative(Eta, 1e-15, "a hidden bias is no hidden weight");
        reversed["h.0.mlp.c_fc.weight"].Applied.LearningRate.Should().Be(plan["h.0.mlp.c_fc.weight"].Applied.LearningRate);
    }

    [Fact]
    public void A_role_entry_shows_in_the_role_rules()
    {
        var rules = RulesEngine.Compute(Setup(EmbeddingLrMlpInit));
        rules[TensorRole.Embedding].LearningRate.Should().Be(2 * Eta);
        rules[TensorRole.HiddenWeight].InitValue.Should().Be(Sigma / 2, "a name pattern needs a tensor name");
    }

    [Fact]
    public void Text_form_round_trips()
    {
        foreach (string text in new[] { "embedding.lr=2", "h.*.mlp.*.init=0.5", "qk-norm.eps=0.1", "unembedding.wd=1.5", "lm_head.weight.lr=0.25" })
        {
            var entry = ModuleHyperparameter.Parse(text);
            entry.ToString().Should().Be(text);
            ModuleHyperparameter.Parse(entry.ToString()).Should().Be(entry);
        }

        var parsed = ModuleHyperparameter.Parse("layers.*.mlp.*.init=0.5");
        parsed.Selector.Should().Be("layers.*.mlp.*");
        parsed.Field.Should().Be(HyperparameterField.InitStd);
        parsed.Factor.Should().Be(0.5);
        parsed.IsPattern.Should().BeTrue();
        parsed.Role.Should().BeNull();
        ModuleHyperparameter.Parse("embedding.lr=2").Role.Should().Be(TensorRole.Embedding);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_factor_must_be_finite_and_positive(double factor)
    {
        var act = () => new ModuleHyperparameter("embedding", HyperparameterField.LearningRate, factor);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("factor");
    }

    [Fact]
    public void Unknown_roles_fields_and_bad_text_are_refused_naming_the_valid_ones()
    {
        var role = () => new ModuleHyperparameter("attention", HyperparameterField.LearningRate, 2);
        role.Should().Throw<ArgumentException>().Where(e => e.ParamName == "selector" && e.Message.Contains("embedding, hidden-norm, hidden-weight") && e.Message.Contains("pattern"));
        var field = () => ModuleHyperparameter.Parse("embedding.momentum=2");
        field.Should().Throw<FormatException>().WithMessage("*unknown field 'momentum' (valid: lr, init, wd, eps, res)*");
        var number = () => ModuleHyperparameter.Parse("embedding.lr=two");
        number.Should().Throw<FormatException>().WithMessage("*'two' is not a number*");
        var form = () => ModuleHyperparameter.Parse("embedding");
        form.Should().Throw<FormatException>().WithMessage("*SELECTOR.FIELD=FACTOR*");
        foreach (string selector in new[] { "h.*.mlp,x", "h.*;x", "h.[0].*", "h .*" })
        {
            var bad = () => new ModuleHyperparameter(selector, HyperparameterField.LearningRate, 2);
            bad.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("selector", "a selector holds nothing a CSV field or a formula symbol needs: {0}", selector);
        }

        var badField = () => new ModuleHyperparameter("embedding", (HyperparameterField)7, 2);
        badField.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("field");
    }

    [Fact]
    public void A_factor_on_a_constant_is_refused()
    {
        var init = () => ModuleHyperparameter.Parse("hidden-norm.init=2");
        init.Should().Throw<ArgumentException>().WithMessage("*constant*");
        var wd = () => ModuleHyperparameter.Parse("final-norm.wd=2");
        wd.Should().Throw<ArgumentException>().WithMessage("*no weight decay*");
    }

    [Fact]
    public void The_same_selector_and_field_twice_is_refused()
    {
        var act = () => new BaseHyperparameters(Eta, Sigma, modules: [ModuleHyperparameter.Parse("embedding.lr=2"), ModuleHyperparameter.Parse("embedding.lr=3")]);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "modules" && e.Message.Contains("'embedding.lr' 2 times"));
    }

    [Fact]
    public void Hyperparameters_compare_their_modules_by_value()
    {
        var a = new BaseHyperparameters(Eta, Sigma, modules: [ModuleHyperparameter.Parse("embedding.lr=2")]);
        var b = new BaseHyperparameters(Eta, Sigma, modules: [ModuleHyperparameter.Parse("embedding.lr=2")]);
        var c = new BaseHyperparameters(Eta, Sigma, modules: [ModuleHyperparameter.Parse("embedding.lr=3")]);
        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.Should().NotBe(c);
        a.Should().NotBe(new BaseHyperparameters(Eta, Sigma));
    }

    [Fact]
    public void A_plan_with_module_hyperparameters_round_trips_through_json()
    {
        var plan = Plan(Setup(EmbeddingLrMlpInit));
        string json = PlanJson.Serialize(plan);
        json.Should().Contain("\"modules\": [").And.Contain("\"selector\": \"h.*.mlp.*\"").And.Contain("\"field\": \"initStd\"");
        var back = PlanJson.Deserialize(json);
        back.Should().Be(plan);
        back.Setup.Hyperparameters.Modules.Should().Equal(EmbeddingLrMlpInit);
        PlanJson.Serialize(back).Should().Be(json);
    }

    [Fact]
    public void The_strict_reader_refuses_a_bad_module_entry()
    {
        string json = PlanJson.Serialize(Plan(Setup(EmbeddingLrMlpInit)));
        var zero = () => PlanJson.Deserialize(json.Replace("\"factor\": 2", "\"factor\": 0", StringComparison.Ordinal));
        zero.Should().Throw<System.Text.Json.JsonException>().WithMessage("$.setup.hyperparameters.modules[0]: factor must be a finite number greater than 0*");
        var role = () => PlanJson.Deserialize(json.Replace("\"selector\": \"embedding\"", "\"selector\": \"attention\"", StringComparison.Ordinal));
        role.Should().Throw<System.Text.Json.JsonException>().WithMessage("$.setup.hyperparameters.modules[0]: selector 'attention' is not a role*");
    }

    // Per-branch residual multipliers (issue 16, item 3): res entries select residual branches by module name and multiply
    // their residual multiplier m_L^-alpha; they change no tensor's rule.
    private static readonly ModuleHyperparameter[] BranchFactors = [ModuleHyperparameter.Parse("*.attn.res=0.5"), ModuleHyperparameter.Parse("h.1.*.res=3")];

    [Fact]
    public void A_branch_residual_multiplier_is_its_factors_times_m_L_to_the_minus_alpha_by_hand()
    {
        // CompleteP, 64x2 -> 256x8: m_L = 4, so m_L^-alpha = 1/4.
        var rules = RulesEngine.Compute(Setup(BranchFactors));
        rules.Multipliers.Residual.Value.Should().Be(0.25, "the model-level multiplier has no per-branch factor");
        rules.ResidualMultiplierOf("h.0.attn").Value.Should().Be(0.5 / 4);
        rules.ResidualMultiplierOf("h.0.attn").Formula.Should().Be("hp[*.attn.res] * m_L^-alpha");
        rules.ResidualMultiplierOf("h.0.attn").Substitution.Should().Be("0.5 * 4^-1");
        rules.ResidualMultiplierOf("h.1.attn").Value.Should().Be(0.5 * 3 / 4, "two entries that match one branch multiply");
        rules.ResidualMultiplierOf("h.1.attn").Formula.Should().Be("hp[*.attn.res] * hp[h.1.*.res] * m_L^-alpha");
        rules.ResidualMultiplierOf("h.1.mlp").Value.Should().Be(3.0 / 4);
        rules.ResidualMultiplierOf("h.0.mlp").Should().Be(rules.Multipliers.Residual, "a branch no entry matches keeps m_L^-alpha, formula and all");

        // muP and SP have no residual multiplier, but a tuned branch factor is still a multiplier: the factor alone.
        foreach (var p in new[] { Parameterization.MuP, Parameterization.Standard })
        {
            var other = RulesEngine.Compute(new RuleSetup(p, new ModelShape(64, 2), new ModelShape(256, 8), 16, new BaseHyperparameters(Eta, Sigma, Lambda, Eps, modules: BranchFactors)));
            other.ResidualMultiplierOf("h.0.attn").Value.Should().Be(0.5, p.ToString());
            other.ResidualMultiplierOf("h.0.attn").Formula.Should().Be("hp[*.attn.res]", p.ToString());
            other.ResidualMultiplierOf("h.0.mlp").Value.Should().Be(1.0, p.ToString());
        }
    }

    [Fact]
    public void A_branch_residual_multiplier_changes_no_tensor_rule()
    {
        var plain = Plan(Setup(null));
        var tuned = Plan(Setup(BranchFactors));
        foreach (var (name, _, _) in Tensors)
        {
            tuned[name].Rule.Should().Be(plain[name].Rule, name);
        }

        string[] names = ["h.0.attn.c_attn.weight", "h.0.attn"];
        BranchFactors.Select(m => m.Matches(TensorRole.HiddenWeight, names)).Should().AllBeEquivalentTo(false, "a res entry selects branches, never a tensor");
        BranchFactors[0].MatchesName("transformer.h.3.attn").Should().BeTrue();
        BranchFactors[0].MatchesName("h.0.attn.c_proj").Should().BeFalse("the pattern matches the branch's whole name");
    }

    [Fact]
    public void A_residual_multiplier_needs_a_branch_pattern_and_parses_from_text()
    {
        var role = () => ModuleHyperparameter.Parse("hidden-weight.res=2");
        role.Should().Throw<ArgumentException>().Where(e => e.ParamName == "selector" && e.Message.Contains("'hidden-weight.res'") && e.Message.Contains("'*.attn'"));
        var parsed = ModuleHyperparameter.Parse("layers.*.mlp.res=1.5");
        parsed.Field.Should().Be(HyperparameterField.ResidualMultiplier);
        parsed.Selector.Should().Be("layers.*.mlp");
        parsed.Symbol.Should().Be("hp[layers.*.mlp.res]");
        parsed.ToString().Should().Be("layers.*.mlp.res=1.5");
    }

    [Fact]
    public void A_branch_factor_that_would_fold_out_of_range_is_refused_before_any_rule()
    {
        // Folded into a hidden weight, c = 1e-306 * m_L^-1 takes its learning rate (eta * m_N^-1 * c) below the smallest normal double.
        var act = () => RulesEngine.Compute(Setup([ModuleHyperparameter.Parse("*.attn.res=1e-306")]));
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "hyperparameters");
        RulesEngine.Compute(Setup([ModuleHyperparameter.Parse("*.attn.res=1e-3")])).ResidualMultiplierOf("h.0.attn").Value.Should().Be(1e-3 / 4);
    }

    [Fact]
    public void A_plan_with_branch_factors_round_trips_through_json_and_prints_one_line_per_residual_value()
    {
        var rules = RulesEngine.Compute(Setup(BranchFactors));
        // Rows as the adapter folds them: each branch's output projection carries its own residual multiplier.
        var rows = new[] { "h.0.attn.c_proj.weight", "h.0.mlp.c_proj.weight", "h.1.attn.c_proj.weight", "h.1.mlp.c_proj.weight" }.Select(n =>
        {
            string branch = n[..n.LastIndexOf(".c_proj", StringComparison.Ordinal)];
            return new PlanRow(n, [4, 4], rules.RuleFor(new TensorDescriptor(TensorRole.HiddenWeight), [n]), residualBranch: branch)
                .Fold(new FoldedMultiplier(MultiplierKind.Residual, rules.ResidualMultiplierOf(branch)));
        }).ToList();
        var plan = ParameterizationPlan.Create(rules, rows);
        plan["h.1.attn.c_proj.weight"].Applied.LearningRate.Should().Be(plan["h.1.attn.c_proj.weight"].Rule.LearningRate * 0.375, "folding c multiplies the LR by c");
        string json = PlanJson.Serialize(plan);
        json.Should().Contain("\"field\": \"residualMultiplier\"").And.Contain("hp[*.attn.res] * hp[h.1.*.res] * m_L^-alpha");
        var back = PlanJson.Deserialize(json);
        back.Should().Be(plan);
        PlanJson.Serialize(back).Should().Be(json);

        string table = plan.ToTable();
        table.Should().Contain("residual multiplier hp[*.attn.res] * m_L^-alpha = 0.5 * 4^-1 = 0.125: folded into 1 tensor");
        table.Should().Contain("residual multiplier hp[*.attn.res] * hp[h.1.*.res] * m_L^-alpha = 0.5 * 3 * 4^-1 = 0.375: folded into 1 tensor");
        table.Should().Contain("residual multiplier hp[h.1.*.res] * m_L^-alpha = 3 * 4^-1 = 0.75: folded into 1 tensor");
        table.Should().Contain("residual multiplier 1 * m_L^-alpha = 1 * 4^-1 = 0.25: folded into 1 tensor");
    }
}
