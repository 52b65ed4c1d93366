using CompleteP;
using CompleteP.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// Builds a nanoGPT and its optimizer the ordinary way, then hands both to
/// <c>Parameterize.Apply</c>, which re-initializes the parameters, regroups the optimizer
/// (per-tensor learning rate, weight decay, epsilon; the betas too when the batch or length transfer), installs the forward multipliers and sets
/// the attention scale. That one call is all the model code needs to know about muP / CompleteP.
/// </summary>
public static class ParameterizedGpt
{
    /// <summary>
    /// Builds the model on <paramref name="device"/> with <see cref="FlatAdamW"/> (the setup's betas, epsilon and weight
    /// decay) and applies the parameterization, as the other overload.
    /// </summary>
    public static (Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Create(GptSetup setup, Device device)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return Create(setup, device, parameters => new FlatAdamW(parameters, lr: setup.LearningRate, beta1: setup.Beta1, beta2: setup.Beta2,
            eps: setup.Eps, weight_decay: setup.WeightDecay));
    }

    /// <summary>
    /// Builds the model on <paramref name="device"/>, builds the optimizer and applies the parameterization, which
    /// draws every initial value from a generator of its own seeded with <see cref="GptSetup.Seed"/>:
    /// the same seed gives the same model whatever else runs in the process (parallel sweep runs included).
    /// </summary>
    /// <param name="setup">Shapes, parameterization and base hyperparameters.</param>
    /// <param name="device">Where the model lives.</param>
    /// <param name="createOptimizer">Builds the optimizer from the model's parameters (one group; Apply regroups it).</param>
    public static (Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Create(
        GptSetup setup, Device device, Func<IEnumerable<Parameter>, optim.Optimizer> createOptimizer)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(createOptimizer);
        var model = new Gpt(setup.ModelConfig); // TorchSharp's default init; Apply redraws every value
        model.to(device);
        var optimizer = createOptimizer(model.parameters().ToList());
        using var init = new Generator((ulong)setup.Seed); // a CPU generator (TorchSharp makes no others): Apply draws on the CPU and copies
        var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Generator = init,
            Parameterization = Parameterization.Parse(setup.Parameterization, setup.Alpha),
            BaseShape = new ModelShape(setup.BaseWidth, setup.BaseDepth),
            HeadDim = setup.HeadDim,
            Hyperparameters = new BaseHyperparameters(setup.LearningRate, setup.InitStd, setup.WeightDecay, setup.Eps, setup.Beta1, setup.Beta2, setup.Modules),
            BaseTraining = setup.BaseTraining,
            TargetTraining = setup.TargetTraining,
            RuleOptions = setup.Multipliers ?? RuleOptions.Default,
        });
        return (model, optimizer, plan);
    }
}
