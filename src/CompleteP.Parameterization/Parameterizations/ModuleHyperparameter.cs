using System.Globalization;
using System.Text.RegularExpressions;

namespace CompleteP;

/// <summary>
/// A per-module base hyperparameter: a factor on one base hyperparameter (learning rate, init std, weight decay or
/// Adam epsilon) for the tensors a selector picks, tuned at the base shape. The factor multiplies the base value before
/// Table 1's width and depth factors and the batch and length factors, so it transfers by the same rules
/// (<c>docs/rules.md</c>, "Per-module base hyperparameters").
/// </summary>
/// <remarks>
/// The selector is either a role (<c>embedding</c>, <c>hidden-weight</c>, <c>hidden-bias</c>, <c>hidden-norm</c>,
/// <c>qk-norm</c>, <c>block-readout</c>, <c>final-norm</c>, <c>unembedding</c>), matching every tensor of that role, or
/// a glob over parameter names (any selector holding <c>.</c>, <c>*</c> or <c>?</c>; <c>*</c> matches any run of
/// characters, dots included, <c>?</c> one character), matching a tensor when the pattern matches its whole name or
/// another name of the same (tied) tensor: <c>transformer.h.*.mlp.*</c>, <c>*.attn.*</c>. Roles do not tell attention from
/// MLP weights (both are hidden weights); patterns do. Every entry that matches a tensor multiplies its value, so a role
/// entry and a pattern entry that both match give the product of their factors; two entries of the same selector and
/// field are refused (<see cref="BaseHyperparameters"/>).
/// <para>
/// The field <c>res</c> (<see cref="HyperparameterField.ResidualMultiplier"/>) is a per-branch residual multiplier: its
/// selector is a glob over residual-branch module names (<c>*.attn</c>, <c>layers.*.mlp</c>), never a role, and the
/// branches it matches add <c>factor * m_L^-alpha * branch(x)</c> to the residual stream (entries matching one branch multiply).
/// </para>
/// </remarks>
public sealed record ModuleHyperparameter
{
    private static readonly (string Name, TensorRole Role)[] RoleNames = Enum.GetValues<TensorRole>().Select(r => (Kebab(r.ToString()), r)).ToArray();

    private static readonly (string Name, HyperparameterField Field)[] FieldNames =
        [("lr", HyperparameterField.LearningRate), ("init", HyperparameterField.InitStd), ("wd", HyperparameterField.WeightDecay), ("eps", HyperparameterField.AdamEpsilon),
         ("res", HyperparameterField.ResidualMultiplier)];

    /// <summary>The roles whose init is a constant (a norm's gain, a bias): an init factor has nothing to multiply.</summary>
    private static readonly TensorRole[] ConstantInit = [TensorRole.HiddenNorm, TensorRole.HiddenBias, TensorRole.FinalNorm, TensorRole.QkNorm];

    /// <summary>Creates an entry.</summary>
    /// <param name="selector">A role name (<see cref="ValidRoles"/>) or a glob over parameter names (holding <c>.</c>, <c>*</c> or <c>?</c>).</param>
    /// <param name="field">The base hyperparameter it multiplies.</param>
    /// <param name="factor">The factor; finite, greater than 0.</param>
    /// <exception cref="ArgumentException"><paramref name="selector"/> is empty, holds whitespace, or is neither a role name nor a pattern; or the role's
    /// <paramref name="field"/> is a constant the factor cannot change (the init of norms and biases, the weight decay of norms and hidden biases).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is NaN, infinite, 0 or negative, or <paramref name="field"/> is not defined.</exception>
    public ModuleHyperparameter(string selector, HyperparameterField field, double factor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(selector);
        if (selector.Any(c => char.IsWhiteSpace(c) || c is '=' or ',' or ';' or '"' or '[' or ']'))
        {
            throw new ArgumentException($"selector '{selector}' must hold no whitespace and none of = , ; \" [ ]: a role ({ValidRoles}) or a name pattern such as 'layers.*.mlp.*'.", nameof(selector));
        }

        if (!Enum.IsDefined(field))
        {
            throw new ArgumentOutOfRangeException(nameof(field), field, $"field must be one of {string.Join(", ", Enum.GetNames<HyperparameterField>())}.");
        }

        Guard.PositiveFinite(factor, nameof(factor));
        IsPattern = selector.IndexOfAny(['.', '*', '?']) >= 0;
        if (field == HyperparameterField.ResidualMultiplier && !IsPattern)
        {
            throw new ArgumentException($"'{selector}.res': a residual multiplier belongs to residual branches, which are selected by a module-name pattern " +
                                        "(holding '.', '*' or '?', e.g. '*.attn' or 'layers.*.mlp'), not by a tensor role.", nameof(selector));
        }

        if (!IsPattern)
        {
            var match = RoleNames.Where(r => r.Name == selector).Select(r => (TensorRole?)r.Role).FirstOrDefault();
            Role = match ?? throw new ArgumentException(
                $"selector '{selector}' is not a role: use one of {ValidRoles}, or a name pattern (holding '.', '*' or '?', e.g. 'layers.*.mlp.*').", nameof(selector));
            if (field == HyperparameterField.InitStd && ConstantInit.Contains(match.Value))
            {
                throw new ArgumentException($"'{selector}' tensors are initialized to a constant (gain 1, shift 0): an init factor has nothing to multiply. " +
                                            "init applies to embedding, hidden-weight, block-readout and unembedding.", nameof(field));
            }

            if (field == HyperparameterField.WeightDecay && ConstantInit.Contains(match.Value))
            {
                throw new ArgumentException($"'{selector}' tensors get no weight decay (0): a wd factor has nothing to multiply. " +
                                            "wd applies to embedding, hidden-weight, block-readout and unembedding.", nameof(field));
            }
        }

        Selector = selector;
        Field = field;
        Factor = factor;
    }

    /// <summary>The role names a selector may be, comma-separated: <c>embedding, hidden-norm, ...</c>.</summary>
    public static string ValidRoles => string.Join(", ", RoleNames.Select(r => r.Name));

    /// <summary>The field names of the text form, comma-separated: <c>lr, init, wd, eps, res</c>.</summary>
    public static string ValidFields => string.Join(", ", FieldNames.Select(f => f.Name));

    /// <summary>The role name or the name pattern.</summary>
    public string Selector { get; }

    /// <summary>The base hyperparameter multiplied.</summary>
    public HyperparameterField Field { get; }

    /// <summary>The factor.</summary>
    public double Factor { get; }

    /// <summary>True when <see cref="Selector"/> is a glob over parameter names; false when it is a role.</summary>
    public bool IsPattern { get; }

    /// <summary>The role selected, or null for a name pattern.</summary>
    public TensorRole? Role { get; }

    /// <summary>The short name of <see cref="Field"/> in the text form: <c>lr</c>, <c>init</c>, <c>wd</c>, <c>eps</c> or <c>res</c>.</summary>
    public string FieldName => FieldNames.First(f => f.Field == Field).Name;

    /// <summary>The symbol that stands for the factor in a rule's formula: <c>hp[embedding.lr]</c>.</summary>
    public string Symbol => $"hp[{Selector}.{FieldName}]";

    /// <summary>
    /// Reads the text form <c>selector.field=factor</c>: <c>embedding.lr=2</c>, <c>layers.*.mlp.*.init=0.5</c>. The field is the
    /// part after the last dot before <c>=</c> (<see cref="ValidFields"/>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="FormatException">The text is not of the form <c>selector.field=factor</c>, the field is unknown or the factor is not a number.</exception>
    /// <exception cref="ArgumentException">The selector or the factor is refused by the constructor.</exception>
    public static ModuleHyperparameter Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string form = $"the form is SELECTOR.FIELD=FACTOR, SELECTOR a role ({ValidRoles}) or a name pattern such as 'layers.*.mlp.*', FIELD one of {ValidFields} (res: the residual multiplier of the branches a module-name pattern selects, e.g. *.attn.res=0.5), FACTOR a number greater than 0 (e.g. embedding.lr=2)";
        int eq = text.LastIndexOf('=');
        int dot = eq < 0 ? -1 : text.LastIndexOf('.', eq);
        if (eq < 0 || dot <= 0)
        {
            throw new FormatException($"'{text}' is not a per-module hyperparameter: {form}.");
        }

        string fieldName = text[(dot + 1)..eq];
        var field = FieldNames.Where(f => f.Name == fieldName).Select(f => (HyperparameterField?)f.Field).FirstOrDefault()
                    ?? throw new FormatException($"'{text}': unknown field '{fieldName}' (valid: {ValidFields}); {form}.");
        if (!double.TryParse(text[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double factor))
        {
            throw new FormatException($"'{text}': the factor '{text[(eq + 1)..]}' is not a number; {form}.");
        }

        return new ModuleHyperparameter(text[..dot], field, factor);
    }

    /// <summary>
    /// Whether the entry selects a tensor of <paramref name="role"/> known by <paramref name="names"/> (its name and any tied names).
    /// A residual multiplier (<c>res</c>) selects branches, never a tensor: false.
    /// </summary>
    /// <param name="role">The tensor's role.</param>
    /// <param name="names">The tensor's names; empty when the tensor is planned by role only (then no pattern matches).</param>
    /// <returns>True when the entry applies.</returns>
    public bool Matches(TensorRole role, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return Field != HyperparameterField.ResidualMultiplier && (IsPattern ? names.Any(MatchesName) : Role == role);
    }

    /// <summary>Whether the entry's pattern matches a whole name: a parameter's, or for <c>res</c> a residual branch module's (false for a role entry).</summary>
    /// <param name="name">The parameter or module name.</param>
    /// <returns>True when the pattern matches it.</returns>
    public bool MatchesName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsPattern && Regex.IsMatch(name, "^" + Regex.Escape(Selector).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    /// <summary>The text form, <c>selector.field=factor</c>, which <see cref="Parse"/> reads back.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Selector}.{FieldName}={Factor.ToString("R", CultureInfo.InvariantCulture)}";

    private static string Kebab(string pascal) => string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : string.Empty) + char.ToLowerInvariant(c) : c.ToString()));
}
