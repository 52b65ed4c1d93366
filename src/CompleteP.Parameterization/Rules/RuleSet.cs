using System.Collections.Immutable;

namespace CompleteP.Rules;

/// <summary>
/// The rules of one setup: the model-level forward multipliers and a rule for every role at the
/// model's own widths. <see cref="RuleFor(TensorDescriptor)"/> gives the rule of a tensor whose
/// fan-in scales differently.
/// </summary>
public sealed class RuleSet
{
    internal RuleSet(RuleSetup setup)
    {
        Setup = setup;
        ResidualMultiplier = RulesEngine.ResidualMultiplier(setup);
        OutputMultiplier = RulesEngine.OutputMultiplier(setup);
        EmbeddingMultiplier = RulesEngine.EmbeddingMultiplier(setup);
        AttentionScale = RulesEngine.AttentionScale(setup);
        Roles = Enum.GetValues<TensorRole>().ToImmutableSortedDictionary(
            role => role,
            role => RulesEngine.RuleFor(setup, new TensorDescriptor(role)));
    }

    /// <summary>The setup the rules were computed for.</summary>
    public RuleSetup Setup { get; }

    /// <summary>The width multiplier <c>m_N</c>.</summary>
    public double WidthMultiplier => Setup.Scaling.WidthMultiplier;

    /// <summary>The depth multiplier <c>m_L</c>.</summary>
    public double DepthMultiplier => Setup.Scaling.DepthMultiplier;

    /// <summary>The residual-branch multiplier <c>m_L^-alpha</c> (1 for SP and muP).</summary>
    public ScaledValue ResidualMultiplier { get; }

    /// <summary>The unembedding (logit) multiplier <c>alpha_out * m_N^-1</c> (<c>alpha_out</c> for SP).</summary>
    public ScaledValue OutputMultiplier { get; }

    /// <summary>The embedding-output multiplier <c>alpha_in</c>.</summary>
    public ScaledValue EmbeddingMultiplier { get; }

    /// <summary>The attention-logit scale (<c>alpha_attn / d_head</c>, or <c>alpha_attn / sqrt(d_head)</c> for SP).</summary>
    public ScaledValue AttentionScale { get; }

    /// <summary>
    /// The rule of every role for a weight (or norm gain) whose fan-in scales with the model width.
    /// </summary>
    public ImmutableSortedDictionary<TensorRole, TensorRule> Roles { get; }

    /// <summary>The rule of a role at the model's own width: a weight, or a norm's gain.</summary>
    /// <param name="role">The role.</param>
    /// <returns>Its rule.</returns>
    public TensorRule this[TensorRole role] => Roles[role];

    /// <summary>The rule of one tensor.</summary>
    /// <param name="tensor">What the tensor is: role, bias or not, fan-ins.</param>
    /// <returns>Its rule.</returns>
    public TensorRule RuleFor(TensorDescriptor tensor) => RulesEngine.RuleFor(Setup, tensor);
}
