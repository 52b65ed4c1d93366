using CompleteP.Tests.Adapter.Fuzz;
using FluentAssertions;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static CompleteP.Tests.Adapter.TestSupport;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Models users will eventually hand to Apply: a block used at two depths, a module shared by two blocks, half, bfloat16
/// and float64 parameters, zero-size parameters, the meta device, 256 blocks, a model changed after Apply, and
/// model.to(...) before and after Apply. Each works (the values are checked) or is refused with a message that says
/// what to do. (No repeated blocks, nested blocks and frozen parameters: <see cref="ModuleTreeFuzzTests"/>,
/// <see cref="ModuleTreeFuzzRegressionTests"/>, <see cref="DiscoveryRegressionTests"/> and <see cref="ApplyTests"/>.)
/// </summary>
public class OddModelTests
{
    /// <summary>A pre-LN feed-forward block whose up projection may be given (shared with another block).</summary>
    private sealed class SharingBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm ln;
        private readonly Sequential ff;

        public SharingBlock(int width, Linear? up = null) : base(nameof(SharingBlock))
        {
            ln = nn.LayerNorm(width);
            ff = nn.Sequential(("up", up ?? nn.Linear(width, 2 * width)), ("act", nn.GELU()), ("down", nn.Linear(2 * width, width)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => x + ff.call(ln.call(x));
    }

    /// <summary>Embedding, blocks (given), final norm, head.</summary>
    private sealed class BlocksModel : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding wte;
        private readonly ModuleList<SharingBlock> h;
        private readonly LayerNorm ln_f;
        private readonly Linear lm_head;

        public BlocksModel(int width, params SharingBlock[] blocks) : base(nameof(BlocksModel))
        {
            wte = nn.Embedding(11, width);
            h = new ModuleList<SharingBlock>(blocks);
            ln_f = nn.LayerNorm(width);
            lm_head = nn.Linear(width, 11);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids)
        {
            var x = wte.call(ids);
            foreach (var block in h)
            {
                x = block.call(x);
            }

            return lm_head.call(ln_f.call(x));
        }
    }

    private static ParameterizationPlan Apply(nn.Module model, optim.Optimizer optimizer, int baseWidth = 8, int baseDepth = 1, int headDim = 8, Generator? generator = null,
        ModelDeclarations? declarations = null) =>
        Parameterize.Apply(model, optimizer, Options(Parameterization.CompleteP, baseWidth, baseDepth, headDim) with
        {
            Generator = generator,
            Declarations = declarations ?? ModelDeclarations.None,
        });

    [Fact]
    public void A_block_used_at_two_depths_is_refused_instead_of_counted_once()
    {
        // ALBERT-style sharing: TorchSharp lists the block's parameters once, so the depth was read as 1 of 2.
        var shared = new SharingBlock(16);
        using var model = new BlocksModel(16, shared, shared);
        using var optimizer = optim.AdamW(model.parameters());
        var act = () => Apply(model, optimizer);
        act.Should().Throw<ParameterClassificationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Contain("'h.1' is the block 'h.0' registered a second time").And.Contain("build each block as its own module");
    }

    [Fact]
    public void A_module_shared_by_two_blocks_is_planned_once_with_a_warning()
    {
        var up = nn.Linear(16, 32);
        using var model = new BlocksModel(16, new SharingBlock(16, up), new SharingBlock(16, up));
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Apply(model, optimizer);

        plan.Diagnostics.Should().Contain(d => d.Severity == DiagnosticSeverity.Warning && d.Subject == "h.1.ff.up" && d.Message.Contains("'h.0.ff.up'"));
        plan.Rows.Select(r => r.Name).Should().Contain("h.0.ff.up.weight").And.NotContain("h.1.ff.up.weight");
        plan["h.0.ff.up.weight"].Rule.Role.Should().Be(TensorRole.HiddenWeight);
        plan.Setup.Target.Depth.Should().Be(2);
        optimizer.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).Count(p => p.Handle == up.weight!.Handle).Should().Be(1);
    }

    public static TheoryData<ScalarType> FloatingTypes() => new() { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float64 };

    [Theory]
    [MemberData(nameof(FloatingTypes))]
    public void Half_bfloat16_and_float64_models_are_parameterized_in_their_own_type(ScalarType dtype)
    {
        using var reference = BuildGpt(32, 2, headDim: 8, tie: false);
        using var referenceOptimizer = optim.AdamW(reference.parameters());
        var expected = Apply(reference, referenceOptimizer, 16, 1);

        using var model = BuildGpt(32, 2, headDim: 8, tie: false);
        model.to(dtype);
        using var optimizer = optim.AdamW(model.parameters());
        using var generator = new Generator(5);
        var plan = Apply(model, optimizer, 16, 1, generator: generator);

        plan.Rows.Should().Equal(expected.Rows, "the rules do not depend on the parameters' type");
        plan.Setup.Should().Be(expected.Setup);
        using var replay = new Generator(5);
        foreach (var row in plan.Rows)
        {
            var p = model.get_parameter(row.Name)!;
            p.dtype.Should().Be(dtype, row.Name);
            var rule = row.Applied;
            using var want = rule.InitKind == InitKind.Normal && rule.InitValue > 0
                ? empty(p.shape, dtype: dtype).normal_(0, rule.InitValue, replay)
                : full(p.shape, rule.InitValue, dtype: dtype);
            FuzzRun.Same(p.detach(), want).Should().BeTrue("'{0}' holds its applied init ({1}) drawn in {2}", row.Name, rule.Explained.Init, dtype);
        }

        var ids = Tokens(2, 16, 65, 1);
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(ids).to(ScalarType.Float32).view(-1, 65), ids.view(-1));
        loss.backward();
        optimizer.step();
        double.IsFinite(loss.item<float>()).Should().BeTrue();
        var epsilonWarning = plan.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains("Adam epsilon")).ToList();
        if (dtype == ScalarType.Float16)
        {
            // eps * m_N^-1 * m_L^-alpha = 2.5e-9 is 0 in float16 (smallest positive 6e-8): where a gradient is 0, AdamW divides 0 by 0.
            epsilonWarning.Should().ContainSingle().Which.Message.Should().Contain("float16").And.Contain("rounds to 0");
            model.get_parameter("transformer.wte.weight")!.isfinite().all().item<bool>().Should().BeFalse("token rows without a gradient become NaN, as the warning says");
        }
        else
        {
            epsilonWarning.Should().BeEmpty();
            model.parameters().Should().OnlyContain(p => p.dtype == dtype && p.isfinite().all().item<bool>());
        }
    }

    [Fact]
    public void Zero_size_parameters_are_planned_and_train()
    {
        using var model = BuildGpt(32, 2, headDim: 8, tie: false);
        model.register_module("segment_emb", nn.Embedding(0, 32)); // a table with no rows
        var firstBlock = model.named_modules().First(m => m.name == "transformer.h.0").module;
        firstBlock.register_parameter("lora", new Parameter(zeros(0, 32))); // a rank-0 adapter
        var declarations = ModelDeclarations.None.Role("transformer.h.*.lora", TensorRole.HiddenWeight);
        using var optimizer = new Optimizers.FlatAdamW(model.parameters(), lr: 1e-3);
        var plan = Apply(model, optimizer, 16, 1, declarations: declarations);

        plan["segment_emb.weight"].Rule.Role.Should().Be(TensorRole.Embedding);
        plan["segment_emb.weight"].ElementCount.Should().Be(0);
        plan["transformer.h.0.lora"].Rule.Role.Should().Be(TensorRole.HiddenWeight);
        plan["transformer.h.0.lora"].Shape.Should().Equal(0, 32);
        var ids = Tokens(2, 16, 65, 1);
        for (int step = 0; step < 2; step++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(ids).view(-1, 65), ids.view(-1));
            loss.backward();
            optimizer.step();
            double.IsFinite(loss.item<float>()).Should().BeTrue();
        }
    }

    [Fact]
    public void A_model_on_the_meta_device_gets_the_plan_it_has_on_the_cpu()
    {
        // This machine has no GPU; the meta device (shapes without storage) is the other device there is. Apply reads shapes,
        // so the plan is the CPU plan; a meta model has no values to initialize or train.
        using var cpu = BuildGpt(32, 2, headDim: 8);
        using var cpuOptimizer = optim.AdamW(cpu.parameters());
        var expected = Apply(cpu, cpuOptimizer, 16, 1);

        using var meta = BuildGpt(32, 2, headDim: 8);
        meta.to(new Device("meta"));
        using var optimizer = optim.AdamW(meta.parameters());
        var plan = Apply(meta, optimizer, 16, 1);

        PlanJson.Serialize(plan).Should().Be(PlanJson.Serialize(expected));
        meta.parameters().Should().OnlyContain(p => p.device_type == DeviceType.META);
        TestSupport.GroupOf(optimizer, meta.get_parameter("transformer.h.1.mlp.c_proj.weight")!).LearningRate
            .Should().Be(TestSupport.GroupOf(cpuOptimizer, cpu.get_parameter("transformer.h.1.mlp.c_proj.weight")!).LearningRate);
    }

    [Fact]
    public void A_256_block_model_is_table_1s_model()
    {
        var (outcome, detail) = FuzzRun.Run(TreeSpecs.Gpt() with { Width = 4, Depth = 256, Position = 0 });
        outcome.Should().Be(FuzzOutcome.Parameterized, detail);
        detail.Should().StartWith($"{1 + 256 * 12 + 2 + 1} rows, {256 * 4 + 1} folded",
            "every tensor has a row (12 per block); both output projections (weight and bias) of every block carry the residual multiplier, the head the logit multiplier");
    }

    [Fact]
    public void A_model_changed_after_apply_is_caught_by_verify_and_by_save()
    {
        using var model = BuildGpt(32, 2, headDim: 8, tie: false);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Apply(model, optimizer, 16, 1);
        Parameterize.Verify(model, optimizer, plan);

        // A new head weight: the optimizer still trains the old one, and the new one would never train.
        var head = (Linear)model.named_modules().First(m => m.name == "lm_head").module;
        head.weight = new Parameter(randn(65, 32) * 0.02);
        var verify = () => Parameterize.Verify(model, optimizer, plan);
        verify.Should().Throw<ArgumentException>().Which.Message.Should()
            .Contain("'lm_head.weight' is not a tensor the optimizer trains").And.Contain("the optimizer holds 1 disposed tensor(s)")
            .And.Contain("before building its optimizer and calling Parameterize.Apply");

        string path = Path.Combine(Path.GetTempPath(), $"completep-changed-{Guid.NewGuid():N}.bin");
        var save = () => ParameterizedCheckpoint.Save(model, plan, path, optimizer);
        save.Should().Throw<ArgumentException>().Which.Message.Should().Contain("'lm_head.weight'");
        File.Exists(path).Should().BeFalse("nothing is written for a model that does not match its plan");
        File.Exists(ParameterizedCheckpoint.PlanPath(path)).Should().BeFalse();

        // An added module is not in the plan.
        model.register_module("probe", nn.Linear(32, 32));
        verify.Should().Throw<ArgumentException>().Which.Message.Should().Contain("'probe.weight' [32x32] is not in the plan");
    }

    [Fact]
    public void Model_to_before_apply_works_and_after_apply_is_caught()
    {
        // Before: float32 built, moved to float64, then parameterized: every tensor is float64 and holds its init.
        using var model = BuildGpt(32, 2, headDim: 8);
        model.to(ScalarType.Float64);
        using var optimizer = optim.AdamW(model.parameters());
        var plan = Apply(model, optimizer, 16, 1);
        plan["transformer.wte.weight"].SharedWith.Should().Equal(["lm_head.weight"], "the nanoGPT tie (wte.weight = lm_head.weight) survives model.to");
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
        Parameterize.Verify(model, optimizer, plan);

        // After: TorchSharp replaces and disposes every parameter, and the optimizer holds the dead ones.
        model.to(ScalarType.Float32);
        var verify = () => Parameterize.Verify(model, optimizer, plan);
        verify.Should().Throw<ArgumentException>().Which.Message.Should().Contain("disposed").And.Contain("model.to(...)");
        var step = () => optimizer.step();
        step.Should().Throw<Exception>("TorchSharp's own optimizer step fails on the disposed tensors, without saying why");
    }
}
