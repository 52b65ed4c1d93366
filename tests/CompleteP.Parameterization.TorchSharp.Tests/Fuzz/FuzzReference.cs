using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter.Fuzz;

/// <summary>
/// The names a fuzzed tree registers, and its forward written out by hand the way Table 1 writes the model: the
/// multipliers in front of the embeddings (<c>alpha_in</c>), of every residual branch (<c>m_L^-alpha</c>) and of the
/// logits (<c>alpha_out / m_N</c>), the attention scale on IScaledAttention modules, and the weights as they would be
/// without any multiplier folded into them.
/// </summary>
public static class FuzzReference
{
    public static string Prefix(TreeSpec s) => s.Wrapper ? "transformer." : string.Empty;

    public static string Table(TreeSpec s) => Prefix(s) + s.TableName;

    public static string? PositionModule(TreeSpec s) => s.Position == 1 ? Prefix(s) + "wpe" : null;

    public static string FinalNorm(TreeSpec s) => Prefix(s) + "ln_f";

    public static string Block(TreeSpec s, int i) => s.Container switch
    {
        BlockContainer.Siblings => $"block_{i}",
        BlockContainer.ModuleDict => $"{s.BlocksPath}.layer_{(char)('a' + i)}",
        BlockContainer.Stages => $"{s.BlocksPath}.{i / (s.Depth / s.Stages)}.{i % (s.Depth / s.Stages)}",
        _ => $"{s.BlocksPath}.{i}",
    };

    public static string GateOf(BranchSpec b) => b.Linears.Single(n => n.Contains("gate", StringComparison.Ordinal) || n == "w3");

    public static string UpOf(BranchSpec b) => b.Linears.Single(n => n != b.Output && n != GateOf(b));

    /// <summary>Causal softmax attention over heads, with the logit scale given.</summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, long b, long t, int heads, int width, double scale)
    {
        Tensor Heads(Tensor y) => y.view(b, t, heads, width / heads).transpose(1, 2);
        var scores = Heads(q).matmul(Heads(k).transpose(-2, -1)) * scale;
        var mask = ones(t, t, dtype: ScalarType.Bool, device: q.device).tril().logical_not();
        return scores.masked_fill(mask, double.NegativeInfinity).softmax(-1).matmul(Heads(v)).transpose(1, 2).contiguous().view(b, t, width);
    }

    /// <summary>
    /// An MoE's output from its router logits (B, T, E) and its experts' outputs: each token's top-2 experts (all, for
    /// two), weighted by a softmax over their logits, the others by zero (dense and differentiable).
    /// </summary>
    public static Tensor Route(Tensor logits, Tensor[] experts)
    {
        var (top, index) = logits.topk(Math.Min(2, experts.Length), dim: -1);
        var weights = zeros_like(logits).scatter(-1, index, top.softmax(-1));
        return (stack(experts, -1) * weights.unsqueeze(-2)).sum(-1);
    }

    /// <summary>
    /// The local names (relative to a block) of the modules whose outputs carry the residual multiplier: the norm on a
    /// branch's output, else every expert's down projection, else the branch's output Linear.
    /// </summary>
    public static IEnumerable<string> ResidualWriters(TreeSpec s) => s.Branches.SelectMany(WritersOf);

    /// <summary>The local names (relative to a block) of the modules whose outputs carry one branch's residual multiplier (<see cref="ResidualWriters"/>).</summary>
    public static IEnumerable<string> WritersOf(BranchSpec b) =>
        b.PostNormName is { } post ? [post]
        : b.IsMoe ? Enumerable.Range(0, b.Experts).Select(e => $"{b.Name}.experts.{e}.{b.Output}").Concat(b.SharedExpert ? [$"{b.Name}.shared_expert.{b.Output}"] : [])
        : new[] { $"{b.Name}.{b.Output}" };

    /// <summary>The full module name of a branch of block <paramref name="i"/>.</summary>
    public static string BranchName(TreeSpec s, int i, BranchSpec b) => $"{Block(s, i)}.{b.Name}";

    /// <summary>The full module names of every residual branch of the tree.</summary>
    public static IEnumerable<string> BranchNames(TreeSpec s) => Enumerable.Range(0, s.Depth).SelectMany(i => s.Branches.Select(b => BranchName(s, i, b)));

    /// <summary>
    /// Whether a glob matches a whole name: <c>*</c> any run of characters (dots included), <c>?</c> one character, every
    /// other character itself. Written here from the documented syntax, apart from the library's matcher, so the judge is independent.
    /// </summary>
    public static bool GlobMatches(string pattern, string name)
    {
        string regex = string.Concat(pattern.Select(c => c switch
        {
            '*' => ".*",
            '?' => ".",
            _ => Regex.Escape(c.ToString()),
        }));
        return Regex.IsMatch(name, $"^{regex}$", RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    /// <summary>The product of the factors of the tree's residual factors whose patterns match a branch's full name (1 where none does).</summary>
    public static double ResidualFactor(TreeSpec s, string branchName) =>
        s.ResidualFactors.Where(f => GlobMatches(f.Pattern, branchName)).Aggregate(1.0, (product, f) => product * f.Factor);

    /// <summary>A branch's residual multiplier: its factors times <c>m_L^-alpha</c> (exactly <paramref name="residual"/> where no factor matches it).</summary>
    public static double BranchResidual(TreeSpec s, string branchName, double residual) => ResidualFactor(s, branchName) * residual;

    /// <summary>
    /// The logits of the tree as Table 1 writes it, from unfolded weights (by name) and the plan's multipliers (an MoE router's
    /// logits x <paramref name="blockReadout"/>, m_N^-1), each branch scaled by its own residual multiplier
    /// (<see cref="BranchResidual"/>); with <paramref name="residualFactors"/> false, a judge broken on purpose that ignores the
    /// per-branch factors (every branch x m_L^-alpha), to show the judge fails trees that have them.
    /// </summary>
    public static Tensor Logits(TreeSpec s, Tensor ids, Func<string, Tensor> weight, Func<string, Tensor?> maybe, ForwardMultipliers m, Tensor? mixing, double blockReadout,
        bool residualFactors = true)
    {
        Tensor Linear(string name, Tensor x) => nn.functional.linear(x, weight(name + ".weight"), maybe(name + ".bias"));
        Tensor Norm(string name, Tensor x) => s.Norm == NormKind.RmsNorm
            ? x * (x.square().mean([-1], keepdim: true) + 1e-5).rsqrt() * weight(name + ".weight")
            : nn.functional.layer_norm(x, [x.shape[^1]], weight(name + ".weight"), maybe(name + ".bias"), 1e-5);
        Tensor Mlp(string at, BranchSpec b, Tensor x)
        {
            var hidden = b.Fused
                ? nn.functional.silu(Linear($"{at}.{GateOf(b)}", x)) * Linear($"{at}.{UpOf(b)}", x)
                : nn.functional.gelu(Linear($"{at}.{b.Linears.First(n => n != b.Output)}", x));
            return Linear($"{at}.{b.Output}", hidden);
        }

        long t = ids.shape[1];
        var h = weight(Table(s) + ".weight").index_select(0, ids.flatten()).view(ids.shape[0], t, s.Width);
        if (PositionModule(s) is { } wpe)
        {
            h = h + weight(wpe + ".weight").narrow(0, 0, t);
        }
        else if (s.Position == 2)
        {
            h = h + weight("pos_emb").narrow(0, 0, t);
        }

        h = m.Embedding.Value * h;
        if (mixing is not null)
        {
            h = h.matmul(mixing);
        }

        for (int i = 0; i < s.Depth; i++)
        {
            string block = Block(s, i);
            var input = h;
            foreach (var b in s.Branches)
            {
                string at = $"{block}.{b.Name}";
                var read = s.Style == BlockStyle.Parallel ? input : h;
                var x = b.HasPreNorm ? Norm($"{block}.{b.NormName}", read) : read;
                Tensor y;
                if (b.IsAttention)
                {
                    var inputs = b.Linears.Where(n => n != b.Output).ToList();
                    Tensor q, k, v;
                    if (b.Fused)
                    {
                        var qkv = Linear($"{at}.{inputs[0]}", x).split(s.Width, 2);
                        (q, k, v) = (qkv[0], qkv[1], qkv[2]);
                    }
                    else
                    {
                        (q, k, v) = (Linear($"{at}.{inputs[0]}", x), Linear($"{at}.{inputs[1]}", x), Linear($"{at}.{inputs[2]}", x));
                    }

                    if (b.QkNorm != QkNormKind.None)
                    {
                        long size = b.QkNorm == QkNormKind.PerHead ? s.HeadDim : s.Width;
                        q = Norm($"{at}.q_norm", q.view(ids.shape[0], t, -1, size)).view(ids.shape[0], t, s.Width);
                        k = Norm($"{at}.k_norm", k.view(ids.shape[0], t, -1, size)).view(ids.shape[0], t, s.Width);
                    }

                    double scale = b.Scaled ? m.AttentionScale.Value : 1.0 / Math.Sqrt(s.HeadDim);
                    y = Linear($"{at}.{b.Output}", Attend(q, k, v, ids.shape[0], t, s.Width / s.HeadDim, s.Width, scale));
                }
                else if (b.IsMoe)
                {
                    y = Route(blockReadout * Linear($"{at}.gate", x), Enumerable.Range(0, b.Experts).Select(e => Mlp($"{at}.experts.{e}", b, x)).ToArray());
                    if (b.SharedExpert)
                    {
                        y = y + Mlp($"{at}.shared_expert", b, x);
                    }
                }
                else
                {
                    y = Mlp(at, b, x);
                }

                // The residual multiplier after the norm on the branch's output, where there is one.
                double residual = residualFactors ? BranchResidual(s, at, m.Residual.Value) : m.Residual.Value;
                h = h + residual * (b.PostNormName is { } post ? Norm($"{block}.{post}", y) : y);
            }
        }

        if (s.FinalNorm)
        {
            h = Norm(FinalNorm(s), h);
        }

        if (s.RootGain)
        {
            h = h * weight("logit_gain");
        }

        var logits = s.Readout == ReadoutKind.Untied ? Linear(s.ReadoutName, h) : h.matmul(weight(Table(s) + ".weight").t());
        return m.Output.Value * logits;
    }
}
