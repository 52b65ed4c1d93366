using CompleteP.Tests.Adapter.Fuzz;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace CompleteP.Tests.Adapter;

/// <summary>
/// Parameterize.Apply on thousands of random transformer-like module trees (<see cref="TreeSpec"/>): blocks in a ModuleList,
/// Sequential or ModuleDict, as siblings or nested in stages, inside a wrapper or not; attention with fused or separate
/// q/k/v and output Linears of many names, registered first or last; plain and gated MLPs; LayerNorm with and without bias
/// and RMSNorm; token tables with or without a position table or a raw position parameter; untied, tied (both directions
/// of assignment) and matmul readouts; an extra root gain; buffers; a frozen tensor; children invoked with .call or
/// .forward; SP, muP, CompleteP, depth-muP and alpha 0.75; Fold and Hooks; right declarations and wrong ones. Each tree
/// gets a plan that covers every tensor with Table 1's rule, folds and hooks where expected, the re-initialization
/// replayed from the seed, the optimizer groups of the plan and a forward equal to Table 1's model written by hand
/// (float64, 1e-10) - or a refusal that names the culprit and changes nothing. Seeded (seed = tree index); set
/// COMPLETEP_FUZZ_TREES and COMPLETEP_FUZZ_FIRST to run other trees. Modern decoder styles too (issue 13): norms on the
/// branch outputs (OLMo-2) and sandwich norms (Gemma), parallel blocks (GPT-J), a QK-norm over d_head or the width, an MoE
/// MLP (router, experts, top-2, perhaps a shared expert), and block and branch children registered in a random permutation, whose plan must equal
/// that of the default order. A quarter of the trees also carry per-branch residual factors (<c>PATTERN.res=FACTOR</c>),
/// each branch's multiplier computed by the test's own glob.
/// </summary>
[Collection(ProcessWideTorchSettings.Name)]
public class ModuleTreeFuzzTests(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : fallback;

    [Fact]
    public void Random_module_trees_get_a_plan_that_acts_or_a_refusal_that_names_the_culprit()
    {
        int count = Setting("COMPLETEP_FUZZ_TREES", 1000), first = Setting("COMPLETEP_FUZZ_FIRST", 0);
        var outcomes = new Dictionary<FuzzOutcome, int>();
        var failures = new List<string>();
        var covered = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1); // tiny tensors: one thread is faster than waking a pool for each kernel
        try
        {
        for (int seed = first; seed < first + count; seed++)
        {
            var spec = TreeSpec.Draw(seed);
            var (outcome, detail) = FuzzRun.Run(spec);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            if (outcome == FuzzOutcome.Parameterized)
            {
                foreach (var feature in Features(spec))
                {
                    covered[feature] = covered.GetValueOrDefault(feature) + 1;
                }
            }
            if (outcome == FuzzOutcome.Failed)
            {
                failures.Add($"{spec}\n  -> {detail}");
            }
        }
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }

        if (Environment.GetEnvironmentVariable("COMPLETEP_FUZZ_REPORT") is { Length: > 0 } report)
        {
            File.WriteAllText(report, string.Join("\n\n", failures));
        }

        output.WriteLine($"{count} trees in {clock.Elapsed.TotalSeconds:F1} s: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}");
        output.WriteLine($"parameterized with: {string.Join(", ", covered.Select(c => $"{c.Key} {c.Value}"))}");
        failures.Should().BeEmpty($"{failures.Count} of {count} trees failed; the first: {string.Join("\n\n", failures.Take(5))}");
        outcomes.GetValueOrDefault(FuzzOutcome.Parameterized).Should().BeGreaterThan(count / 2, "most trees are valid and must be parameterized");
        outcomes.GetValueOrDefault(FuzzOutcome.Refused).Should().BeGreaterThan(count / 20, "the generator also makes trees that must be refused");
    }

    /// <summary>The modern-decoder features a tree has, to show how many parameterized trees exercised each.</summary>
    private static IEnumerable<string> Features(TreeSpec s)
    {
        if (s.Style != BlockStyle.PreNorm)
        {
            yield return s.Style.ToString();
        }

        foreach (var b in s.Branches.Where(b => b.QkNorm != QkNormKind.None))
        {
            yield return "QK-norm " + b.QkNorm;
        }

        if (s.Branches.Any(b => b.IsMoe))
        {
            yield return "MoE";
        }

        if (s.Branches.Any(b => b.SharedExpert))
        {
            yield return "MoE with a shared expert";
        }

        if (s.Permuted)
        {
            yield return "permuted";
        }

        if (s.ResidualFactors.Count > 0)
        {
            yield return "residual factors";
        }
    }

    [Fact]
    public void A_judge_whose_reference_ignores_the_residual_factors_fails_the_trees_that_have_them()
    {
        // The judge's teeth: every tree with residual factors that change some branch's multiplier, parameterized under the
        // right judge, must fail when the reference forward multiplies every branch by m_L^-alpha alone.
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        var caught = new List<int>();
        var missed = new List<string>();
        try
        {
            var trees = Enumerable.Range(0, 400).Select(TreeSpec.Draw)
                .Where(s => FuzzReference.BranchNames(s).Any(n => FuzzReference.ResidualFactor(s, n) != 1));
            foreach (var spec in trees)
            {
                if (FuzzRun.Run(spec).Outcome != FuzzOutcome.Parameterized)
                {
                    continue;
                }

                var (outcome, detail) = FuzzRun.Run(spec, residualFactors: false);
                if (outcome == FuzzOutcome.Failed && detail.StartsWith("the forward is not Table 1's", StringComparison.Ordinal))
                {
                    caught.Add(spec.Seed);
                }
                else
                {
                    missed.Add($"{spec}\n  -> {outcome}: {detail}");
                }
            }
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }

        output.WriteLine($"the broken judge failed {caught.Count} trees with residual factors: seeds {string.Join(", ", caught)}");
        caught.Count.Should().BeGreaterThan(20, "a quarter of the trees carry residual factors");
        missed.Should().BeEmpty("a reference that ignores the branch factors is not Table 1's forward for any of them");
    }
}
