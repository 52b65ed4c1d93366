using NanoGpt;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP.Benchmarks;


/// <summary>
/// A training step (forward, backward, AdamW) of a CompleteP GPT whose multipliers come from the
/// adapter's forward hooks, against the same model with the multipliers written into its forward
/// by hand. Target: at most 1.03x.
/// </summary>
internal static class HookBenchmark
{
    public static void Run(int width, int depth, int batch, int length, int repeats, Device device)
    {
        var config = new GptConfig(VocabSize: 65, BlockSize: length, NLayer: depth, NEmbd: width, HeadDim: 32);
        var options = new ParameterizeOptions
        {
            Parameterization = Parameterization.CompleteP,
            BaseShape = new ModelShape(64, 2),
            HeadDim = 32,
            Hyperparameters = new BaseHyperparameters(1e-3, 0.02, 0.1),
        };

        manual_seed(0);
        var hooked = new Gpt(config);
        var hookedOptimizer = optim.AdamW(hooked.parameters());
        var plan = Parameterize.Apply(hooked, hookedOptimizer, options);
        hooked.to(device);

        // The same weights and optimizer groups without hooks: the twin's groups are built from the plan.
        var byHand = new Gpt(config);
        byHand.load_state_dict(hooked.state_dict());
        foreach (var block in byHand.Transformer.H)
        {
            block.Attention.AttentionScale = plan.Multipliers.AttentionScale.Value;
        }

        byHand.to(device);
        var groups = plan.Rows.GroupBy(r => (r.Rule.LearningRate, r.Rule.WeightDecay, r.Rule.AdamEpsilon))
            .Select(g => new TorchSharp.Modules.AdamW.ParamGroup(
                g.Select(r => byHand.get_parameter(r.Name)!).ToList(),
                new TorchSharp.Modules.AdamW.Options { LearningRate = g.Key.Item1, weight_decay = g.Key.Item2, eps = g.Key.Item3 }))
            .ToList();
        var byHandOptimizer = optim.AdamW(groups);
        double residual = plan.Multipliers.Residual.Value, output = plan.Multipliers.Output.Value;

        var x = randint(0, 65, [batch, length], dtype: ScalarType.Int64, device: device);
        var y = randint(0, 65, [batch, length], dtype: ScalarType.Int64, device: device);

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

        // Both must compute the same thing before their speed is compared.
        using (no_grad())
        {
            float difference = (hooked.call(x) - HandScaledForward(byHand, x, residual, output)).abs().max().item<float>();
            Console.WriteLine($"  max |logits(hooks) - logits(by hand)| = {difference:G3}");
            if (difference > 1e-4)
            {
                throw new InvalidOperationException("the hooked and hand-scaled models disagree");
            }
        }

        var (withHooks, withoutHooks) = Measure.Interleaved(
            () => Step(() => hooked.call(x), hookedOptimizer),
            () => Step(() => HandScaledForward(byHand, x, residual, output), byHandOptimizer),
            warmup: 3, repeats: repeats);


        Console.WriteLine($"hooks  GPT width {width}, depth {depth}, batch {batch}x{length} on {device.type} (median of {repeats} interleaved steps)");
        Console.WriteLine($"  multipliers written by hand : {withoutHooks * 1000:F1} ms/step");
        Console.WriteLine($"  multipliers through hooks   : {withHooks * 1000:F1} ms/step");
        Console.WriteLine($"  ratio hooks / by hand       : {withHooks / withoutHooks:F3}x   (target <= 1.03x)");
    }

    /// <summary>The GPT forward with the residual and readout multipliers written in (same module calls as Gpt.forward).</summary>
    private static Tensor HandScaledForward(Gpt model, Tensor idx, double residual, double output)
    {
        using var scope = NewDisposeScope(); // as Gpt.forward
        var t = model.Transformer;
        var pos = arange(0, idx.shape[1], dtype: ScalarType.Int64, device: idx.device);
        var x = t.Wte.call(idx) + t.Wpe.call(pos);
        foreach (var block in t.H)
        {
            x = x + block.Attention.call(block.Ln1.call(x)) * residual;
            x = x + block.Mlp.call(block.Ln2.call(x)) * residual;
        }

        return (model.LmHead.call(t.LnF.call(x)) * output).MoveToOuterDisposeScope();
    }
}
