namespace CompleteP;

/// <summary>How a tensor is initialized.</summary>
public enum InitKind
{
    /// <summary>Drawn from a normal distribution with mean 0 and the rule's standard deviation.</summary>
    Normal,

    /// <summary>Filled with the rule's constant (1 for norm gains, 0 for biases).</summary>
    Constant,
}
