using System.Collections.Immutable;

namespace CompleteP;

/// <summary>
/// The rules of one setup: the model-level forward multipliers and a rule for every role at the
/// model's own widths. <see cref="RuleFor(TensorDescriptor)"/> gives the rule of a tensor whose
/// fan-in scales differently.
/// </summary>
public sealed class RuleSet
{
    internal RuleSet(RuleSetup setup, ForwardMultipliers multipliers)
    {
        Setup = setup;
        Multipliers = multipliers;
        Roles = Enum.GetValues<TensorRole>().ToImmutableSortedDictionary(
            role => role,
            role => RulesEngine.RuleFor(setup, new TensorDescriptor(role), "hyperparameters"));
    }

    /// <summary>The setup the rules were computed for.</summary>
    public RuleSetup Setup { get; }

    /// <summary>The width multiplier <c>m_N</c>.</summary>
    public double WidthMultiplier => Setup.Scaling.WidthMultiplier;

    /// <summary>The depth multiplier <c>m_L</c>.</summary>
    public double DepthMultiplier => Setup.Scaling.DepthMultiplier;

    /// <summary>The model-level forward multipliers: residual, output (logits), embedding, attention scale.</summary>
    public ForwardMultipliers Multipliers { get; }

    /// <summary>
    /// The residual multiplier of one residual branch: <see cref="ForwardMultipliers.Residual"/> (<c>m_L^-alpha</c>) times the
    /// factor of every per-branch residual multiplier in <see cref="BaseHyperparameters.Modules"/> (field <c>res</c>) whose pattern
    /// matches <paramref name="branchName"/>: the branch adds <c>hp * m_L^-alpha * branch(x)</c> to the residual stream. With no
    /// such entry it is <see cref="ForwardMultipliers.Residual"/> itself, value and formula.
    /// </summary>
    /// <param name="branchName">The branch module's name in the model (<c>transformer.h.0.attn</c>).</param>
    /// <returns>The branch's multiplier with its formula (<c>hp[*.attn.res] * m_L^-alpha</c>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="branchName"/> is null.</exception>
    public ScaledValue ResidualMultiplierOf(string branchName)
    {
        ArgumentNullException.ThrowIfNull(branchName);
        return RulesEngine.ResidualMultiplier(Setup, branchName);
    }

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
    public TensorRule RuleFor(TensorDescriptor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return RulesEngine.RuleFor(Setup, tensor, tensor.FanIn is null ? "hyperparameters" : nameof(tensor));
    }

    /// <summary>
    /// The rule of one named tensor: as <see cref="RuleFor(TensorDescriptor)"/>, with the per-module entries of
    /// <see cref="BaseHyperparameters.Modules"/> whose name pattern matches one of <paramref name="names"/> applied as well.
    /// </summary>
    /// <param name="tensor">What the tensor is: role, bias or not, fan-ins.</param>
    /// <param name="names">The tensor's name in the model and any other names of the same (tied) tensor.</param>
    /// <returns>Its rule.</returns>
    public TensorRule RuleFor(TensorDescriptor tensor, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(names);
        return RulesEngine.RuleFor(Setup, tensor, tensor.FanIn is null ? "hyperparameters" : nameof(tensor), names);
    }
}
