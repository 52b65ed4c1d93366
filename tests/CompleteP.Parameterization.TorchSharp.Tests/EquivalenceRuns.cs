using TorchSharp;
using CompleteP.Optimizers;
using CompleteP.Tests.Adapter.Models.Corpus;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;

/// <summary>How a run applies the parameterization.</summary>
public enum Way
{
    /// <summary>The hand-written Table 1 version: the multipliers in the model's own forward, Table 1's init and optimizer groups set by hand.</summary>
    Reference,

    /// <summary><c>Parameterize.Apply</c> with the multipliers folded into the weights (the default).</summary>
    Fold,

    /// <summary><c>Parameterize.Apply</c> with <see cref="MultiplierMode.Hooks"/>.</summary>
    Hooks,
}

/// <summary>
/// Trains one model N AdamW steps under a way of applying the parameterization and returns its losses and its
/// effective weights (a folded tensor divided by its multiplier), so that ways can be compared step for step.
/// </summary>
internal static class EquivalenceRuns
{
    public sealed record Outcome(IReadOnlyList<double> Losses, IReadOnlyDictionary<string, Tensor> Weights, ParameterizationPlan Plan);

    public static Outcome Train<TModel>(Func<TModel> build, Func<TModel, int, Tensor> loss, ParameterizeOptions options, Way way,
        double clip, int steps, ScalarType dtype, int seed = 7, Action<TModel, ParameterizationPlan>? afterApply = null)
        where TModel : nn.Module, IHandScaled
    {
        var model = build();
        model.to(dtype);
        optim.Optimizer optimizer = optim.AdamW(model.parameters(), lr: 1.0, beta1: 0.9, beta2: 0.95);
        ParameterizationPlan plan;
        if (way == Way.Reference)
        {
            // Table 1 for this model, read from the plan's Rule column (the plan of a throwaway copy).
            using (var copy = build())
            using (var copyOptimizer = optim.AdamW(copy.parameters()))
            {
                copy.to(dtype);
                plan = Parameterize.Apply(copy, copyOptimizer, options);
            }

            model.Scales.Residual = plan.Multipliers.Residual.Value;
            model.Scales.Output = plan.Multipliers.Output.Value;
            model.Scales.Embedding = plan.Multipliers.Embedding.Value;
            model.Scales.BlockReadout = RulesEngine.BlockReadoutMultiplier(plan.Setup).Value;
            foreach (var attention in model.modules().OfType<IScaledAttention>())
            {
                attention.AttentionScale = plan.Multipliers.AttentionScale.Value;
            }

            using var generator = new Generator((ulong)seed);
            var groups = new List<AdamW.ParamGroup>();
            using (no_grad())
            {
                foreach (var row in plan.Rows)
                {
                    var p = model.get_parameter(row.Name)!;
                    var rule = row.Rule;
                    if (rule.InitKind == InitKind.Constant || rule.InitValue == 0)
                    {
                        p.fill_(rule.InitKind == InitKind.Constant ? rule.InitValue : 0.0);
                    }
                    else
                    {
                        p.normal_(0.0, rule.InitValue, generator);
                    }

                    groups.Add(new AdamW.ParamGroup([p], new AdamW.Options
                    {
                        LearningRate = rule.LearningRate, weight_decay = rule.WeightDecay, eps = rule.AdamEpsilon, beta1 = 0.9, beta2 = 0.95,
                    }));
                }
            }

            optimizer.Dispose();
            optimizer = optim.AdamW(groups, lr: 1.0);
        }
        else
        {
            using var generator = new Generator((ulong)seed);
            plan = Parameterize.Apply(model, optimizer, options with
            {
                Multipliers = way == Way.Fold ? MultiplierMode.Fold : MultiplierMode.Hooks,
                Generator = generator,
                SampleForward = options.SampleForward ?? (() => loss(model, 0)), // hooks are proven on a forward pass
            });
        }

        afterApply?.Invoke(model, plan);
        var parameters = model.parameters().ToList();
        var losses = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var value = loss(model, step);
            value.backward();
            if (clip > 0)
            {
                if (way == Way.Fold)
                {
                    ParameterizedGradients.ClipGradNorm(model, plan, clip);
                }
                else
                {
                    nn.utils.clip_grad_norm_(parameters, clip);
                }
            }

            optimizer.step();
            losses.Add(value.to(ScalarType.Float64).item<double>());
        }

        var weights = plan.Rows.ToDictionary(r => r.Name, r =>
        {
            var w = model.get_parameter(r.Name)!.detach().to(ScalarType.Float64);
            return way == Way.Fold && r.Folded is { } c ? w / c.Value.Value : w.clone();
        });
        optimizer.Dispose();
        model.Dispose();
        return new Outcome(losses, weights, plan);
    }

    /// <summary>
    /// The largest relative difference between two runs' losses, and between their effective weights: each tensor's
    /// largest difference relative to its largest entry; for a tensor that never leaves 0 (a zero-initialized bias with no
    /// gradient), the absolute difference. Also the tensor with the largest weight difference. <paramref name="compared"/>
    /// chooses the tensors compared (all by default).
    /// </summary>
    public static (double Loss, double Weight, string Worst) Difference(Outcome a, Outcome b, Func<string, bool>? compared = null)
    {
        double loss = a.Losses.Zip(b.Losses, (x, y) => Math.Abs(x - y) / Math.Abs(y)).Max();
        var weights = a.Weights.Keys.Where(compared ?? (_ => true)).Select(k =>
        {
            var (x, y) = (a.Weights[k], b.Weights[k]);
            double scale = y.abs().max().item<double>();
            double diff = (x - y).abs().max().item<double>();
            return (k, Diff: scale == 0 ? diff : diff / scale);
        }).OrderByDescending(w => w.Diff).First();
        return (loss, weights.Diff, weights.k);
    }
}
