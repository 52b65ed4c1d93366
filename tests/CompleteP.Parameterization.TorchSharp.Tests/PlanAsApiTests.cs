using TorchSharp;
using CompleteP.Tests.Adapter.Models.Corpus;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>The "assert on your plan" example of docs/torchsharp-adapter.md, as a test: what a user's own unit test can pin.</summary>
public class PlanAsApiTests
{
    [Fact]
    public void My_model_gets_completep()
    {
        using var model = new CallGpt(vocab: 40, width: 64, depth: 3);
        using var optimizer = torch.optim.AdamW(model.parameters());
        var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = Parameterization.CompleteP,
            BaseShape = new ModelShape(width: 32, depth: 1),
            HeadDim = 16,
            Hyperparameters = new BaseHyperparameters(learningRate: 6e-3, initStd: 0.02, weightDecay: 0.1),
        });

        // The residual multiplier m_L^-1 = 1/3 lives in every output projection (weight and bias, attention and MLP).
        plan.Rows.Where(r => r.Folded?.Kind == MultiplierKind.Residual).Should().HaveCount(3 * 2 * 2);
        plan.Multipliers.Residual.Value.Should().BeApproximately(1.0 / 3, 1e-15);
        // Table 1: a hidden weight's learning rate is eta * m_N^-1 * m_L^(alpha-1) = 6e-3 / 2 * 1.
        plan["h.0.mlp.c_fc.weight"].Rule.LearningRate.Should().BeApproximately(3e-3, 1e-15);
        plan["h.0.mlp.c_fc.weight"].Rule.Explained.LearningRate.Formula.Should().Be("eta * m_N^-1 * m_L^(alpha-1)");
        // The folded output projection trains with c times that rate, and was drawn with c times the std
        // (its width multiplier is fan-in / base fan-in = 256 / 128 = 2, so Table 1's std is sigma * 2^-1/2).
        plan["h.0.mlp.c_proj.weight"].Rule.InitStd.Should().BeApproximately(0.02 / Math.Sqrt(2), 1e-15);
        plan["h.0.mlp.c_proj.weight"].Applied.LearningRate.Should().BeApproximately(3e-3 / 3, 1e-15);
        plan["h.0.mlp.c_proj.weight"].Applied.InitStd.Should().BeApproximately(0.02 / Math.Sqrt(2) / 3, 1e-15);
        plan.Diagnostics.Should().NotContain(d => d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public void The_adapter_guide_shows_this_test_as_it_is()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "CompleteP.Parameterization.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("the repository root is not above the test's folder");
        }

        static string Normalized(string code) => string.Join('\n', code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        string source = File.ReadAllText(Path.Combine(root, "tests", "CompleteP.Parameterization.TorchSharp.Tests", "PlanAsApiTests.cs"));
        int start = source.IndexOf("    [Fact]", StringComparison.Ordinal);
        int end = source.IndexOf("\n    }\n", start, StringComparison.Ordinal) + "\n    }".Length;
        string test = source[start..end];

        string guide = File.ReadAllText(Path.Combine(root, "docs", "torchsharp-adapter.md"));
        int block = guide.IndexOf("```csharp\n[Fact]\npublic void My_model_gets_completep()", StringComparison.Ordinal);
        block.Should().BeGreaterThan(0, "docs/torchsharp-adapter.md shows the 'assert on your plan' test");
        string shown = guide[(block + "```csharp\n".Length)..guide.IndexOf("```", block + 3, StringComparison.Ordinal)];

        Normalized(shown).Should().Be(Normalized(test));
    }
}
