using CompleteP;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// Builds a nanoGPT and its optimizer the ordinary way, then hands both to
/// <c>Parameterize.Apply</c>, which re-initializes the parameters, regroups the optimizer
/// (per-tensor learning rate, weight decay, epsilon), installs the forward multipliers and sets
/// the attention scale. That one call is all the model code needs to know about muP / CompleteP.
/// </summary>
public static class ParameterizedGpt
{
    /// <summary>Seeds torch, builds the model on <paramref name="device"/>, builds the optimizer and applies the parameterization.</summary>
    /// <param name="setup">Shapes, parameterization and base hyperparameters.</param>
    /// <param name="device">Where the model lives.</param>
    /// <param name="createOptimizer">Builds the optimizer from the model's parameters (one group; Apply regroups it).</param>
    public static (Gpt Model, optim.Optimizer Optimizer, ParameterizationPlan Plan) Create(
        GptSetup setup, Device device, Func<IEnumerable<Parameter>, optim.Optimizer> createOptimizer)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(createOptimizer);
        torch.manual_seed(setup.Seed);
        var model = new Gpt(setup.ModelConfig);
        model.to(device);
        var optimizer = createOptimizer(model.parameters().ToList());
        var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
        {
            Parameterization = Parameterization.Parse(setup.Parameterization, setup.Alpha),
            BaseShape = new ModelShape(setup.BaseWidth, setup.BaseDepth),
            HeadDim = setup.HeadDim,
            Hyperparameters = new BaseHyperparameters(setup.LearningRate, setup.InitStd, setup.WeightDecay, setup.Eps),
        });
        return (model, optimizer, plan);
    }
}
