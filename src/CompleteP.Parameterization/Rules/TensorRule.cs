using System.Text.Json.Serialization;

namespace CompleteP.Rules;

/// <summary>
/// Everything the rules say about one tensor: its init, its learning rate, weight decay and
/// Adam epsilon, and the forward multiplier applied where the tensor is used, each with the
/// formula that produced it.
/// </summary>
public sealed record TensorRule
{
    /// <summary>Creates a rule. Normally made by <see cref="RulesEngine"/>.</summary>
    /// <param name="role">The role the rule is for.</param>
    /// <param name="isBias">Whether the tensor is a bias or a norm's shift.</param>
    /// <param name="widthMultiplier">The width multiplier the rule used for this tensor.</param>
    /// <param name="init">The init.</param>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="weightDecay">The weight decay, in the plan's convention.</param>
    /// <param name="adamEpsilon">The Adam epsilon.</param>
    /// <param name="forwardMultiplier">The multiplier applied to the output of the module (or residual branch) that holds the tensor.</param>
    /// <param name="source">Where the rule comes from (paper table and row).</param>
    [JsonConstructor]
    public TensorRule(TensorRole role, bool isBias, double widthMultiplier, InitRule init, ScaledValue learningRate,
        ScaledValue weightDecay, ScaledValue adamEpsilon, ScaledValue forwardMultiplier, string source)
    {
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(learningRate);
        ArgumentNullException.ThrowIfNull(weightDecay);
        ArgumentNullException.ThrowIfNull(adamEpsilon);
        ArgumentNullException.ThrowIfNull(forwardMultiplier);
        ArgumentNullException.ThrowIfNull(source);
        Role = role;
        IsBias = isBias;
        WidthMultiplier = widthMultiplier;
        Init = init;
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        AdamEpsilon = adamEpsilon;
        ForwardMultiplier = forwardMultiplier;
        Source = source;
    }

    /// <summary>The role the rule is for.</summary>
    public TensorRole Role { get; }

    /// <summary>Whether the tensor is a bias or a norm's shift.</summary>
    public bool IsBias { get; }

    /// <summary>The width multiplier used for this tensor (<c>fan_in / base_fan_in</c> for hidden weights, else <c>m_N</c>).</summary>
    public double WidthMultiplier { get; }

    /// <summary>The init.</summary>
    public InitRule Init { get; }

    /// <summary>The learning rate.</summary>
    public ScaledValue LearningRate { get; }

    /// <summary>The weight decay, in the plan's <see cref="WeightDecayConvention"/>.</summary>
    public ScaledValue WeightDecay { get; }

    /// <summary>The Adam epsilon.</summary>
    public ScaledValue AdamEpsilon { get; }

    /// <summary>
    /// The forward multiplier: the embedding multiplier for embeddings, the residual multiplier
    /// for tensors inside a residual branch (applied to the branch's output), the unembedding
    /// multiplier for the readout, 1 for the final norm.
    /// </summary>
    public ScaledValue ForwardMultiplier { get; }

    /// <summary>Where the rule comes from: the paper's table and row.</summary>
    public string Source { get; }
}
