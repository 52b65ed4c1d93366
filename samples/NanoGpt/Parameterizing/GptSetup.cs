namespace NanoGpt;

/// <summary>
/// What <see cref="ParameterizedGpt"/> needs: the parameterization, the model's shape, the base
/// shape the hyperparameters were tuned at, and those base hyperparameters.
/// </summary>
/// <param name="Parameterization">sp, mup, completep, depth-mup or alpha=A.</param>
/// <param name="Alpha">Depth exponent for completep / depth-mup; null for the default.</param>
/// <param name="Width">Width N (d_model).</param>
/// <param name="Depth">Depth L (number of blocks).</param>
/// <param name="BaseWidth">Width the base hyperparameters were tuned at.</param>
/// <param name="BaseDepth">Depth the base hyperparameters were tuned at.</param>
/// <param name="HeadDim">Attention head dimension.</param>
/// <param name="VocabSize">Number of tokens.</param>
/// <param name="BlockSize">Context length.</param>
/// <param name="LearningRate">Base learning rate eta.</param>
/// <param name="InitStd">Base init std sigma.</param>
/// <param name="WeightDecay">Base AdamW weight decay lambda.</param>
/// <param name="Eps">Base Adam epsilon.</param>
/// <param name="Seed">Seed of the generator the initialization draws from (one of its own, on the model's device).</param>
/// <param name="Bias">Whether Linears and LayerNorms have biases.</param>
/// <param name="TiedHead">Whether <c>lm_head.weight</c> is <c>transformer.wte.weight</c>; untied, lm_head is a readout Linear of its own.</param>
/// <param name="Beta1">AdamW's first-moment decay.</param>
/// <param name="Beta2">AdamW's second-moment decay.</param>
/// <param name="BaseTraining">The training shape (tokens per step, tokens) the base hyperparameters were tuned at; null without batch and length transfer.</param>
/// <param name="TargetTraining">This run's training shape; given with <paramref name="BaseTraining"/> or not at all.</param>
/// <param name="Modules">Per-module base hyperparameters (<c>--hp</c>): factors on the base values of the tensors each selects; null or empty for none.</param>
/// <param name="Multipliers">The tunable forward multipliers <c>alpha_in</c>, <c>alpha_out</c> and <c>alpha_attn</c> (<c>--alpha-in</c>, <c>--alpha-out</c>,
/// <c>--alpha-attn</c>) as rule options; null for all 1.</param>
public sealed record GptSetup(
    string Parameterization,
    double? Alpha,
    int Width,
    int Depth,
    int BaseWidth,
    int BaseDepth,
    int HeadDim,
    int VocabSize,
    int BlockSize,
    double LearningRate,
    double InitStd,
    double WeightDecay,
    double Eps,
    long Seed,
    bool Bias = true,
    bool TiedHead = true,
    double Beta1 = 0.9,
    double Beta2 = 0.99,
    CompleteP.TrainingShape? BaseTraining = null,
    CompleteP.TrainingShape? TargetTraining = null,
    IReadOnlyList<CompleteP.ModuleHyperparameter>? Modules = null,
    CompleteP.RuleOptions? Multipliers = null)
{
    /// <summary>The model configuration (biases and tying as set, no dropout).</summary>
    public GptConfig ModelConfig => new(VocabSize, BlockSize, Depth, Width, HeadDim, Bias: Bias, TieWeights: TiedHead);
}
