using NanoGpt;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Benchmarks;


/// <summary>
/// Two training-step (forward, backward, AdamW) comparisons of a CompleteP GPT, each against a twin that holds the same
/// weights and the plan's optimizer groups; both compute the same logits before their speed is compared.
/// <list type="number">
/// <item><c>fold</c>: the default <see cref="MultiplierMode.Fold"/> against the same model trained as plain SP (its own
/// forward, no multiplier anywhere). Target: 1.00x (folding costs nothing per step), at most 1.03x.</item>
/// <item><c>hooks</c>: <see cref="MultiplierMode.Hooks"/> against the same model with the multipliers written into its
/// forward by hand. Target: at most 1.03x.</item>
/// </list>
/// </summary>
internal static class HookBenchmark
{
    public static void Run(int width, int depth, int batch, int length, int repeats, Device device)
    {
        var config = new GptConfig(VocabSize: 65, BlockSize: length, NLayer: depth, NEmbd: width, HeadDim: 32);
        var x = randint(0, 65, [batch, length], dtype: ScalarType.Int64, device: device);
        var y = randint(0, 65, [batch, length], dtype: ScalarType.Int64, device: device);
        string setting = $"GPT width {width}, depth {depth}, batch {batch}x{length} on {device.type} (median of {repeats} interleaved steps)";

        // (a) Folded (the default) against plain SP: the twin runs its own forward with the folded weights.
        var (folded, foldedOptimizer, foldedPlan) = Parameterized(config, MultiplierMode.Fold, device);
        if (foldedPlan.Hooks.Count > 0)
        {
            throw new InvalidOperationException($"the folded GPT has {foldedPlan.Hooks.Count} hook(s): nothing would be measured");
        }

        var (plain, plainOptimizer) = Twin(config, folded, foldedPlan, device);
        var (foldedTime, plainTime) = Compare("fold", () => folded.call(x), () => plain.call(x), foldedOptimizer, plainOptimizer, y, repeats, device);
        Console.WriteLine($"fold   {setting}");
        Console.WriteLine($"  plain SP with the plan's groups : {plainTime * 1000:F1} ms/step");
        Console.WriteLine($"  multipliers folded (default)    : {foldedTime * 1000:F1} ms/step");
        Console.WriteLine($"  ratio folded / plain            : {foldedTime / plainTime:F3}x   (target 1.00x, <= 1.03x)");

        // (b) MultiplierMode.Hooks against the multipliers written into the forward by hand.
        var (hooked, hookedOptimizer, hookedPlan) = Parameterized(config, MultiplierMode.Hooks, device);
        var (byHand, byHandOptimizer) = Twin(config, hooked, hookedPlan, device);
        var m = hookedPlan.Multipliers;
        var (hookTime, handTime) = Compare("hooks", () => hooked.call(x),
            () => HandScaledForward(byHand, x, m.Residual.Value, m.Embedding.Value, m.Output.Value), hookedOptimizer, byHandOptimizer, y, repeats, device);
        Console.WriteLine($"hooks  {setting}, {hookedPlan.Hooks.Count} hooks");
        Console.WriteLine($"  multipliers written by hand : {handTime * 1000:F1} ms/step");
        Console.WriteLine($"  multipliers through hooks   : {hookTime * 1000:F1} ms/step");
        Console.WriteLine($"  ratio hooks / by hand       : {hookTime / handTime:F3}x   (target <= 1.03x)");
    }

    /// <summary>A CompleteP GPT and its AdamW, parameterized in <paramref name="mode"/>.</summary>
    private static (Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Parameterized(GptConfig config, MultiplierMode mode, Device device)
    {
        manual_seed(0);
        var model = new Gpt(config);
        var optimizer = optim.AdamW(model.parameters());
        using var sample = zeros([1, 8], dtype: ScalarType.Int64);
        var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = Parameterization.CompleteP,
            BaseShape = new ModelShape(64, 2),
            HeadDim = 32,
            Hyperparameters = new BaseHyperparameters(1e-3, 0.02, 0.1),
            Multipliers = mode,
            SampleForward = () => model.call(sample).Dispose(), // proves every hook fires (MultiplierMode.Hooks)
        });
        model.to(device);
        return (model, optimizer, plan);
    }

    /// <summary>
    /// A GPT with no hooks holding <paramref name="source"/>'s weights and attention scale, and an AdamW whose groups are
    /// built from the plan's applied rules (learning rate, weight decay, epsilon per tensor).
    /// </summary>
    private static (Gpt Model, optim.Optimizer Optimizer) Twin(GptConfig config, Gpt source, ParameterizationPlan plan, Device device)
    {
        var twin = new Gpt(config);
        twin.load_state_dict(source.state_dict());
        foreach (var block in twin.Transformer.H)
        {
            block.Attention.AttentionScale = plan.Multipliers.AttentionScale.Value;
        }

        twin.to(device);
        bool independent = plan.Setup.Options.WeightDecayConvention == WeightDecayConvention.Independent;
        var groups = plan.Rows.Where(r => r.Trainable)
            .GroupBy(r => (Lr: r.Applied.LearningRate, Wd: independent ? r.Applied.WeightDecay / r.Applied.LearningRate : r.Applied.WeightDecay, Eps: r.Applied.AdamEpsilon))
            .Select(g => new TorchSharp.Modules.AdamW.ParamGroup(
                g.Select(r => twin.get_parameter(r.Name)!).ToList(),
                new TorchSharp.Modules.AdamW.Options { LearningRate = g.Key.Lr, weight_decay = g.Key.Wd, eps = g.Key.Eps }))
            .ToList();
        return (twin, optim.AdamW(groups));
    }

    /// <summary>Checks that both forwards give the same logits, then times their training steps interleaved.</summary>
    private static (double A, double B) Compare(string name, Func<Tensor> a, Func<Tensor> b, optim.Optimizer optimizerA, optim.Optimizer optimizerB,
        Tensor y, int repeats, Device device)
    {
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            float difference = (a() - b()).abs().max().item<float>();
            Console.WriteLine($"  {name}: max |logits - logits(twin)| = {difference:G3}");
            if (difference > 1e-4)
            {
                throw new InvalidOperationException($"{name}: the model and its twin disagree (max logit difference {difference:G3})");
            }
        }

        void Step(Func<Tensor> forward, optim.Optimizer optimizer)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = forward();
            nn.functional.cross_entropy(logits.view(-1, 65), y.view(-1)).backward();
            optimizer.step();
            if (device.type == DeviceType.CUDA)
            {
                cuda.synchronize();
            }
        }

        return Measure.Interleaved(() => Step(a, optimizerA), () => Step(b, optimizerB), warmup: 3, repeats: repeats);
    }

    /// <summary>The GPT forward with the input, residual and readout multipliers written in (same module calls as Gpt.forward).</summary>
    private static Tensor HandScaledForward(Gpt model, Tensor idx, double residual, double embedding, double output)
    {
        using var scope = NewDisposeScope(); // as Gpt.forward
        var t = model.Transformer;
        var pos = arange(0, idx.shape[1], dtype: ScalarType.Int64, device: idx.device);
        var x = embedding == 1.0 ? t.Wte.call(idx) + t.Wpe.call(pos) : t.Wte.call(idx) * embedding + t.Wpe.call(pos) * embedding;
        foreach (var block in t.H)
        {
            x = x + block.Attention.call(block.Ln1.call(x)) * residual;
            x = x + block.Mlp.call(block.Ln2.call(x)) * residual;
        }

        var logits = model.LmHead.call(t.LnF.call(x));
        return (output == 1.0 ? logits : logits * output).MoveToOuterDisposeScope();
    }
}
