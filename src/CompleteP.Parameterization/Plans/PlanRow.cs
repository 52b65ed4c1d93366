namespace CompleteP;

/// <summary>
/// One parameter tensor of a model: the rule Table 1 gives it (<see cref="Rule"/>), the forward multiplier
/// folded into it if any (<see cref="Folded"/>), and the values actually applied to the tensor and its
/// optimizer group (<see cref="Applied"/>: the rule with the multiplier folded in, else the rule itself).
/// A row is made unfolded; folding is its own step, <see cref="Fold"/>.
/// </summary>
public sealed record PlanRow
{
    /// <summary>Creates a row.</summary>
    /// <param name="name">The parameter's name in the model (e.g. <c>transformer.h.0.attn.c_attn.weight</c>).</param>
    /// <param name="shape">The tensor's shape.</param>
    /// <param name="rule">The rule Table 1 gives it.</param>
    /// <param name="sharedWith">Other names of the same tensor (tied weights); empty if none.</param>
    /// <param name="residualBranch">The name of the residual branch that holds it, or null outside blocks.</param>
    /// <param name="trainable">False for a frozen tensor (no gradient): it joins no optimizer group and is never re-initialized.</param>
    /// <exception cref="ArgumentException">The name is empty or a dimension is negative.</exception>
    internal PlanRow(string name, IReadOnlyList<long> shape, TensorRule rule, IReadOnlyList<string>? sharedWith = null, string? residualBranch = null,
        bool trainable = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(rule);
        if (shape.Any(d => d < 0))
        {
            throw new ArgumentException($"shape of '{name}' has a negative dimension: [{string.Join(", ", shape)}].", nameof(shape));
        }

        Name = name;
        Shape = shape.ToArray();
        Rule = rule;
        SharedWith = sharedWith?.ToArray() ?? [];
        ResidualBranch = residualBranch;
        Trainable = trainable;
        Applied = rule;
    }

    private PlanRow(PlanRow row, FoldedMultiplier folded, TensorRule applied)
    {
        Name = row.Name;
        Shape = row.Shape;
        Rule = row.Rule;
        SharedWith = row.SharedWith;
        ResidualBranch = row.ResidualBranch;
        Trainable = row.Trainable;
        Folded = folded;
        Applied = applied;
    }

    /// <summary>
    /// The fold step: the same tensor with a forward multiplier folded into its values (<c>V = c W</c>), its applied rule
    /// <see cref="TensorRule.Folded"/> of <see cref="Rule"/> (init and learning rate times <c>c</c>, epsilon and coupled
    /// weight decay over <c>c</c>).
    /// </summary>
    /// <param name="multiplier">The multiplier folded in.</param>
    /// <returns>The folded row.</returns>
    /// <exception cref="InvalidOperationException">A multiplier is already folded into the row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The multiplier is not a finite number greater than 0, or a folded number leaves the range of a normal double.</exception>
    internal PlanRow Fold(FoldedMultiplier multiplier)
    {
        ArgumentNullException.ThrowIfNull(multiplier);
        if (Folded is not null)
        {
            throw new InvalidOperationException($"'{Name}' already has the {Folded.Kind} multiplier folded in; a tensor carries at most one.");
        }

        return new PlanRow(this, multiplier, Rule.Folded(multiplier));
    }

    /// <summary>The parameter's name in the model.</summary>
    public string Name { get; }

    /// <summary>The tensor's shape.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The rule Table 1 gives the tensor, before any multiplier is folded in.</summary>
    public TensorRule Rule { get; }

    /// <summary>Other names of the same tensor (tied weights); empty if none.</summary>
    public IReadOnlyList<string> SharedWith { get; }

    /// <summary>The residual branch (module name) that holds the tensor, or null outside blocks.</summary>
    public string? ResidualBranch { get; }

    /// <summary>False for a frozen tensor: it joins no optimizer group and keeps its values (a folded multiplier still scales them).</summary>
    public bool Trainable { get; }

    /// <summary>The forward multiplier folded into this tensor (<c>V = c W</c>), or null.</summary>
    public FoldedMultiplier? Folded { get; }

    /// <summary>What is applied to the tensor and its optimizer group: <see cref="Rule"/> with <see cref="Folded"/> folded in, or <see cref="Rule"/> itself.</summary>
    public TensorRule Applied { get; }

    /// <summary>The number of elements of the tensor.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Value equality, the lists compared element by element.</summary>
    /// <param name="other">The other row.</param>
    /// <returns>True when every member is equal.</returns>
    public bool Equals(PlanRow? other) =>
        other is not null && Name == other.Name && Shape.SequenceEqual(other.Shape) && Rule == other.Rule
        && SharedWith.SequenceEqual(other.SharedWith) && ResidualBranch == other.ResidualBranch && Trainable == other.Trainable
        && Folded == other.Folded;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Shape.Count, Rule, ResidualBranch, Trainable, Folded);
}
