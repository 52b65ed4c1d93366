using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP;


/// <summary>
/// What <see cref="Parameterize.Apply"/> needs beyond the model and the optimizer: the
/// parameterization, the base shape and base hyperparameters, and optional declarations,
/// base model, generator and logger.
/// </summary>
/// <example>
/// <code>
/// var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
/// {
///     Parameterization = Parameterization.CompleteP,
///     BaseShape = new ModelShape(width: 256, depth: 2),
///     HeadDim = 64,
///     Hyperparameters = new BaseHyperparameters(learningRate: 6e-3, initStd: 0.02, weightDecay: 0.1),
/// });
/// </code>
/// </example>
public sealed record ParameterizeOptions
{
    /// <summary>SP, muP, CompleteP (the default), depth-muP or any alpha.</summary>
    public Parameterization Parameterization { get; init; } = Parameterization.CompleteP;

    /// <summary>The shape the base hyperparameters were tuned at. Required unless <see cref="BaseModel"/> is given (then it is read from the base model).</summary>
    public ModelShape? BaseShape { get; init; }

    /// <summary>The shape of the model; null reads it from the model (width from the hidden norms or the embedding, depth from the number of blocks). When given, it must agree with the model.</summary>
    public ModelShape? TargetShape { get; init; }

    /// <summary>The attention head dimension <c>d_head</c>, held fixed from the base to the target shape (heads = width / d_head); it sets the attention scale.</summary>
    public required int HeadDim { get; init; }

    /// <summary>The hyperparameters tuned at the base shape.</summary>
    public required BaseHyperparameters Hyperparameters { get; init; }

    /// <summary>
    /// How the forward multipliers reach the forward pass: folded into the weights (the default, exact under Adam(W)
    /// whatever way the model invokes its modules), or forward hooks (verified to fire).
    /// </summary>
    public MultiplierMode Multipliers { get; init; } = MultiplierMode.Fold;

    /// <summary>
    /// One forward pass of the model on a sample input (e.g. <c>() => model.call(tokens)</c>). Required when Apply needs
    /// forward hooks (<see cref="MultiplierMode.Hooks"/>, a readout tied to the embedding with no final norm to fold its
    /// multiplier into, or alpha_in with <c>.OutputMultiplierAppliedInForward()</c>): Apply runs it once, in eval mode and
    /// without gradients, before changing anything, and refuses if a hook does not fire. TorchSharp runs a hook only for
    /// <c>module.call(x)</c>, so without this proof a model invoked through <c>.forward(x)</c> would train without the
    /// multiplier. Under the default <see cref="MultiplierMode.Fold"/> most models need no hook and ignore it.
    /// </summary>
    public Action? SampleForward { get; init; }

    /// <summary>
    /// The training shape (tokens per step and tokens) the base hyperparameters were tuned at; given with
    /// <see cref="TargetTraining"/> or not at all. With both, the plan transfers the learning rate, epsilon, weight decay
    /// and betas to the target's batch size and length (docs/rules.md, "Batch size and training length") and Apply sets
    /// each optimizer group's betas from the plan; without them the groups keep the optimizer's betas.
    /// </summary>
    public TrainingShape? BaseTraining { get; init; }

    /// <summary>The training shape (tokens per step and tokens) of this run; given with <see cref="BaseTraining"/> or not at all.</summary>
    public TrainingShape? TargetTraining { get; init; }

    /// <summary>Epsilon scope, weight-decay convention, GPT-2 init and the tunable multipliers.</summary>
    public RuleOptions RuleOptions { get; init; } = RuleOptions.Default;

    /// <summary>Explicit declarations (blocks, residual branches, readout, roles by name) that win over inference.</summary>
    public ModelDeclarations Declarations { get; init; } = ModelDeclarations.None;

    /// <summary>
    /// Optional factory for the same model at the base shape, as microsoft/mup's base shapes: each
    /// hidden weight's width multiplier becomes <c>fan_in / base_fan_in</c>, so tensors whose
    /// fan-in does not scale with the model width get the right rule. The base model is built on
    /// the CPU and disposed at once.
    /// </summary>
    public Func<nn.Module>? BaseModel { get; init; }

    /// <summary>
    /// The generator for the re-initialization; null uses the default generator (seeded by <c>torch.manual_seed</c>).
    /// TorchSharp 0.107 makes CPU generators only, so for a model on a GPU the values are drawn on the CPU and copied:
    /// one seed gives the same initial weights on every device.
    /// </summary>
    public Generator? Generator { get; init; }

    /// <summary>Whether to re-initialize parameters (true, the default). <see cref="Parameterize.Attach"/> never does.</summary>
    public bool Initialize { get; init; } = true;

    /// <summary>Where the plan and warnings are written; null writes nothing.</summary>
    public ILogger? Logger { get; init; }
}
