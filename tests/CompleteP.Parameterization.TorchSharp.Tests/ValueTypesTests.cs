using System.Reflection;
using CompleteP.CoordinateChecks;
using CompleteP.Discovery;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// The adapter's records that hold lists compare by value (every member, lists element by element), and the
/// tensor-identity probe gives the weights back when it fails half way; Apply's indispensable options are required members.
/// </summary>
public class ValueTypesTests
{
    private static readonly ModelDeclarations SomeDeclarations = ModelDeclarations.None
        .Blocks("layers").ResidualBranches("attn", "mlp").OutputProjections("attn.o", "mlp.down").Readout("head")
        .Role("layers.*.gate", TensorRole.HiddenNorm);

    private static readonly CoordinateCheckSettings SomeSettings = new()
    {
        Parameterizations = [Parameterization.MuP, Parameterization.CompleteP],
        BaseShape = new ModelShape(32, 2),
        HeadDim = 16,
        Widths = [32, 64],
        Depths = [2, 4],
        SweepDepth = 2,
        SweepWidth = 32,
        Steps = 3,
        Seeds = [0, 1],
        ModulePatterns = ["layers.*"],
        Declarations = SomeDeclarations,
    };

    [Fact]
    public void Declarations_with_equal_lists_are_equal_and_every_member_counts()
    {
        var rebuilt = ModelDeclarations.None
            .Blocks("layers").ResidualBranches(["attn", "mlp"]).OutputProjections(["attn.o", "mlp.down"]).Readout("head")
            .Role("layers.*.gate", TensorRole.HiddenNorm);
        rebuilt.Should().NotBeSameAs(SomeDeclarations);
        (rebuilt == SomeDeclarations).Should().BeTrue();
        rebuilt.GetHashCode().Should().Be(SomeDeclarations.GetHashCode());
        (SomeDeclarations.ResidualBranches("attn") == SomeDeclarations).Should().BeFalse();
        (SomeDeclarations.Role("x", TensorRole.HiddenBias) == SomeDeclarations).Should().BeFalse();
        EveryMemberCounts(SomeDeclarations);
    }

    [Fact]
    public void Settings_with_equal_lists_are_equal_and_every_member_counts()
    {
        var copy = SomeSettings with
        {
            Parameterizations = [Parameterization.MuP, Parameterization.CompleteP],
            Widths = new List<int> { 32, 64 },
            Depths = [2, 4],
            Seeds = [0, 1],
            ModulePatterns = ["layers.*"],
        };
        copy.Widths.Should().NotBeSameAs(SomeSettings.Widths);
        (copy == SomeSettings).Should().BeTrue();
        copy.GetHashCode().Should().Be(SomeSettings.GetHashCode());
        (SomeSettings with { Widths = [64, 32] } == SomeSettings).Should().BeFalse("the order of the widths is part of the value");
        EveryMemberCounts(SomeSettings);
    }

    [Fact]
    public void Results_with_equal_measurements_are_equal_and_round_trip_through_csv()
    {
        var measurements = new List<CoordinateMeasurement>
        {
            new("completep", 32, 2, 0, 1, "transformer.h.1", 0.5, 0.75, 0, ModuleKind.Block, 1),
            new("completep", 64, 2, 0, 2, "lm_head", 1.25, 1.5, 0.125, ModuleKind.Readout, -1),
        };
        var result = new CoordinateCheckResult(measurements, []);
        var parsed = new CoordinateCheckResult(CoordinateCheckResult.ParseCsv(result.ToCsv()), []);
        parsed.Measurements.Should().NotBeSameAs(result.Measurements);
        (parsed == result).Should().BeTrue();
        parsed.GetHashCode().Should().Be(result.GetHashCode());
        (new CoordinateCheckResult([measurements[0]], []) == result).Should().BeFalse();
        (new CoordinateCheckResult([measurements[1], measurements[0]], []) == result).Should().BeFalse();
        (result with { Laziness = [new LazinessMeasurement("completep", 32, 2, 0, "transformer.h.0.attn", 0, 1e-3, 1e-2)] } == result).Should().BeFalse();
    }

    [Fact]
    public void A_probe_that_fails_half_way_leaves_every_weight_as_it_was()
    {
        // Two tensors of one shape are probed together. The second is an inference tensor: libtorch refuses an in-place
        // update of it outside inference mode, but only after the kernel ran, so its marker is written and then the
        // probe fails, with the first tensor's marker written too. Both must get their values back.
        using var scope = NewDisposeScope();
        var ordinary = randn(4, 3, generator: new Generator(7));
        Tensor inference;
        using (inference_mode())
        {
            inference = randn(4, 3, generator: new Generator(8));
        }

        var before = (ordinary.clone(), inference.clone());
        var act = () => TensorIdentity.Canonical([ordinary, inference]);

        act.Should().Throw<Exception>("the marker cannot be written into an inference tensor");
        ordinary.eq(before.Item1).all().item<bool>().Should().BeTrue("the first tensor's marker is undone");
        inference.eq(before.Item2).all().item<bool>().Should().BeTrue("the failed write is undone too");
        ordinary.view(-1)[0].item<float>().Should().Be(before.Item1.view(-1)[0].item<float>()).And.NotBe(1f);
    }

    [Fact]
    public void The_probe_tells_shared_storage_apart_and_restores_it()
    {
        using var scope = NewDisposeScope();
        var a = randn(5, generator: new Generator(1));
        var alias = a.view(5);
        var other = randn(5, generator: new Generator(2));
        var before = (a.clone(), other.clone());

        TensorIdentity.Canonical([a, other, alias]).Should().Equal(0, 1, 0);
        a.eq(before.Item1).all().item<bool>().Should().BeTrue();
        other.eq(before.Item2).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void The_options_apply_cannot_do_without_are_required_at_compile_time()
    {
        // HeadDim and Hyperparameters have no default that could be right; BaseShape may come from BaseModel instead.
        var required = typeof(ParameterizeOptions).GetProperties()
            .Where(p => p.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.RequiredMemberAttribute"))
            .Select(p => p.Name);
        required.Should().BeEquivalentTo(nameof(ParameterizeOptions.HeadDim), nameof(ParameterizeOptions.Hyperparameters));
    }

    /// <summary>
    /// For every public init property, a copy that differs in that property alone is unequal: a member added to the
    /// record and left out of its Equals fails here.
    /// </summary>
    private static void EveryMemberCounts<T>(T value)
        where T : class
    {
        var clone = typeof(T).GetMethod("<Clone>$")!;
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        properties.Should().NotBeEmpty();
        foreach (var property in properties)
        {
            var copy = (T)clone.Invoke(value, null)!;
            copy.Should().Be(value, "a clone equals its original");
            property.SetValue(copy, Different(property.GetValue(value), property.PropertyType));
            copy.Should().NotBe(value, $"{typeof(T).Name}.{property.Name} is part of the value");
        }
    }

    private static object? Different(object? current, Type type) => current switch
    {
        int i => i + 1,
        double d => d + 0.5,
        bool b => !b,
        string s => s + "x",
        null when type == typeof(string) => "x",
        null when Nullable.GetUnderlyingType(type) == typeof(int) => 3,
        IReadOnlyList<int> list => list.Append(99).ToArray(),
        IReadOnlyList<string> list => list.Append("x").ToArray(),
        IReadOnlyList<Parameterization> list => list.Append(Parameterization.Standard).ToArray(),
        IReadOnlyList<RoleDeclaration> list => list.Append(new RoleDeclaration("x", TensorRole.HiddenBias)).ToArray(),
        ModelShape shape => new ModelShape(shape.Width * 2, shape.Depth),
        BaseHyperparameters h => new BaseHyperparameters(h.LearningRate * 2, h.InitStd),
        RuleOptions o => o with { OutputMultiplier = o.OutputMultiplier * 2 },
        ModelDeclarations d => d.Readout("other"),
        _ => throw new InvalidOperationException($"no different value for a {type.Name} in the test: add one"),
    };
}
