namespace CompleteP;

/// <summary>
/// The rules: role + shapes + base hyperparameters -> <see cref="TensorRule"/>, and the model-level
/// forward multipliers. Pure and deterministic.
/// </summary>
/// <remarks>
/// Every rule restates Table 1 of Dey et al. (2025), "Don't be lazy: CompleteP enables
/// compute-efficient deep transformers" (arXiv 2505.01618), for AdamW on a pre-LN transformer;
/// SP and muP are columns of the same table (see <c>docs/rules.md</c>).
/// With <c>m_N</c> the width multiplier, <c>m_L</c> the depth multiplier and <c>alpha</c> the depth
/// exponent: muP drops every <c>m_L</c> factor, SP drops every factor.
/// </remarks>
public static class RulesEngine
{
    private const string Table1 = "Dey et al. 2025, Table 1";

    /// <summary>Checks a setup, then computes its rules.</summary>
    /// <param name="setup">The setup.</param>
    /// <returns>The model-level multipliers and a rule for every role.</returns>
    /// <remarks>
    /// Every number the engine returns is finite, and either exactly 0 (a rule's constant, or a base value of 0)
    /// or a normal double: a setup whose numbers would overflow to infinity or underflow below the smallest normal
    /// double is refused here, before any rule is returned.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A number the rules would give (a learning rate, weight decay, epsilon or init std of any role, with or without a
    /// folded multiplier, or a forward multiplier) overflows to infinity or underflows below the smallest normal double:
    /// the exception names <c>hyperparameters</c> or <c>options</c>, and its message the formula and its inputs.
    /// </exception>
    public static RuleSet Compute(RuleSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Validate(setup);
        return new RuleSet(setup, Multipliers(setup));
    }

    /// <summary>The model-level forward multipliers, checked.</summary>
    internal static ForwardMultipliers Multipliers(RuleSetup setup)
    {
        var multipliers = new ForwardMultipliers(ResidualMultiplier(setup), OutputMultiplier(setup), EmbeddingMultiplier(setup), AttentionScale(setup));
        RuleRange.Multiplier(setup, "output (logit) multiplier", multipliers.Output, "options", "options.OutputMultiplier (alpha_out)");
        RuleRange.Multiplier(setup, "attention scale", multipliers.AttentionScale, "options", "options.AttentionMultiplier (alpha_attn)");
        return multipliers;
    }

    /// <summary>
    /// Computes every number a setup can give a tensor at the model's width (every role, weight and bias, the GPT-2
    /// init, each rule with the multiplier Apply folds into it, a tied readout's hook factor) and throws if one leaves
    /// the range of a normal double. Called by the engine's entry points (<see cref="Compute"/>, <see cref="RuleFor(RuleSetup, TensorDescriptor)"/>)
    /// and by the plan reader, so that no rule that would be infinity, NaN or a lost value is ever returned.
    /// </summary>
    internal static void Validate(RuleSetup setup)
    {
        ForwardMultipliers multipliers;
        try
        {
            multipliers = Multipliers(setup);
        }
        catch (ScaledValueRangeException e)
        {
            throw RuleRange.MultiplierOverflow(setup, e, "Lower options.OutputMultiplier (alpha_out) or options.AttentionMultiplier (alpha_attn).");
        }

        // A readout tied to the embedding table (or logits from the table) gets alpha_out * m_N^-1 / alpha_in when alpha_in is
        // folded into the table: folded into the final norm, or a hook.
        ScaledValue? fromTable = null;
        if (multipliers.Embedding.Value != 1.0)
        {
            try
            {
                fromTable = multipliers.Output.DividedBy("alpha_in", multipliers.Embedding.Value);
                RuleRange.Multiplier(setup, "tied readout's logit factor", fromTable, "options", "options.OutputMultiplier (alpha_out) or lower options.InputMultiplier (alpha_in)");
            }
            catch (ScaledValueRangeException e)
            {
                throw RuleRange.MultiplierOverflow(setup, e, "Raise options.InputMultiplier (alpha_in) or lower options.OutputMultiplier (alpha_out).");
            }
        }

        // The residual multiplier with per-branch factors (res entries): a branch may match any subset of them, so the products
        // of all factors above 1 and of all below 1 bound every value a branch can get.
        var residuals = new List<(MultiplierKind, ScaledValue)> { (MultiplierKind.Residual, multipliers.Residual) };
        var res = setup.Hyperparameters.ResidualMultipliers.ToList();
        foreach (var side in new[] { res.Where(m => m.Factor > 1).ToList(), res.Where(m => m.Factor < 1).ToList() }.Where(s => s.Count > 0))
        {
            try
            {
                residuals.Add((MultiplierKind.Residual, BranchResidual(setup, side)));
            }
            catch (ScaledValueRangeException e)
            {
                throw RuleRange.MultiplierOverflow(setup, e, "Bring the res factors of options.Hyperparameters.Modules closer to 1.");
            }
        }

        foreach (var role in Enum.GetValues<TensorRole>())
        {
            foreach (bool isBias in role == TensorRole.HiddenWeight ? [false] : new[] { false, true })
            {
                var descriptors = new List<TensorDescriptor> { new(role, isBias) };
                if (role == TensorRole.HiddenWeight && setup.Options.Gpt2OutputProjectionInit)
                {
                    descriptors.Add(new TensorDescriptor(role, isBias, isResidualOutputProjection: true));
                }

                foreach (var descriptor in descriptors)
                {
                    var rule = RuleFor(setup, descriptor, "hyperparameters");
                    // Every value the role's multiplier (FoldTable) takes: a tied readout's logit factor also lives in the final norm.
                    var folds = FoldTable.For(role) switch
                    {
                        MultiplierKind.Residual => residuals,
                        MultiplierKind.Output when role == TensorRole.FinalNorm && fromTable is not null => [(MultiplierKind.Output, multipliers.Output), (MultiplierKind.Output, fromTable)],
                        MultiplierKind.Output => [(MultiplierKind.Output, multipliers.Output)],
                        MultiplierKind.Embedding => [(MultiplierKind.Embedding, multipliers.Embedding)],
                        MultiplierKind.BlockReadout => [(MultiplierKind.BlockReadout, BlockReadoutMultiplier(setup))],
                        _ => [],
                    };
                    foreach (var (kind, value) in folds.Where(f => f.Item2.Value != 1.0))
                    {
                        RuleRange.Fold(setup, descriptor, rule, new FoldedMultiplier(kind, value), kind == MultiplierKind.Residual ? "hyperparameters" : "options");
                    }
                }
            }
        }
    }

    /// <summary>The residual-branch multiplier: <c>x + m_L^-alpha * branch(LN(x))</c>; 1 for SP and muP.</summary>
    private static ScaledValue ResidualMultiplier(RuleSetup setup)
    {
        var one = ScaledValue.Constant(1.0);
        return setup.Parameterization.DepthExponent is { } alpha
            ? one.Times("m_L", setup.Scaling.DepthMultiplier, -alpha, "-alpha")
            : one;
    }

    /// <summary>
    /// The residual multiplier of one residual branch: <c>m_L^-alpha</c> times the factor of every per-branch residual multiplier
    /// (<see cref="HyperparameterField.ResidualMultiplier"/>, <c>res</c>) whose pattern matches the branch's module name; with no
    /// such entry, exactly <see cref="ForwardMultipliers.Residual"/>.
    /// </summary>
    /// <param name="setup">The setup.</param>
    /// <param name="branchName">The branch module's name in the model.</param>
    /// <returns>The branch's multiplier with its formula: <c>hp[*.attn.res] * m_L^-alpha</c>.</returns>
    internal static ScaledValue ResidualMultiplier(RuleSetup setup, string branchName)
    {
        var entries = setup.Hyperparameters.ResidualMultipliers.Where(m => m.MatchesName(branchName)).ToList();
        return entries.Count == 0 ? ResidualMultiplier(setup) : BranchResidual(setup, entries);
    }

    /// <summary><c>hp[...] * ... * m_L^-alpha</c>: the residual multiplier of a branch that these per-branch factors (at least one) match.</summary>
    internal static ScaledValue BranchResidual(RuleSetup setup, IReadOnlyList<ModuleHyperparameter> entries)
    {
        var value = entries.Skip(1).Aggregate(ScaledValue.Base(entries[0].Symbol, entries[0].Factor), (v, m) => v.Times(m.Symbol, m.Factor));
        return setup.Parameterization.DepthExponent is { } alpha
            ? value.Times("m_L", setup.Scaling.DepthMultiplier, -alpha, "-alpha")
            : value;
    }

    /// <summary>The unembedding (logit) multiplier: <c>alpha_out * m_N^-1</c>; <c>alpha_out</c> for SP.</summary>
    private static ScaledValue OutputMultiplier(RuleSetup setup)
    {
        var value = ScaledValue.Base("alpha_out", setup.Options.OutputMultiplier);
        return UsesWidth(setup) ? value.Times("m_N", setup.Scaling.WidthMultiplier, -1, "-1") : value;
    }

    /// <summary>
    /// The multiplier on the output of an output-like Linear inside a block (<see cref="TensorRole.BlockReadout"/>, an MoE
    /// router): <c>m_N^-1</c>, the readout's width factor without <c>alpha_out</c> (muP's output-weight rule); 1 for SP.
    /// </summary>
    /// <param name="setup">The setup.</param>
    /// <returns>The multiplier with its formula.</returns>
    internal static ScaledValue BlockReadoutMultiplier(RuleSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var one = ScaledValue.Constant(1.0);
        return UsesWidth(setup) ? one.Times("m_N", setup.Scaling.WidthMultiplier, -1, "-1") : one;
    }

    /// <summary>The embedding-output multiplier <c>alpha_in</c> (the same in every parameterization).</summary>
    private static ScaledValue EmbeddingMultiplier(RuleSetup setup)
    {
        return ScaledValue.Base("alpha_in", setup.Options.InputMultiplier);
    }

    /// <summary>The attention-logit scale: <c>alpha_attn / d_head</c> for muP and depth-scaled, <c>alpha_attn / sqrt(d_head)</c> for SP.</summary>
    private static ScaledValue AttentionScale(RuleSetup setup)
    {
        var value = ScaledValue.Base("alpha_attn", setup.Options.AttentionMultiplier);
        return UsesWidth(setup)
            ? value.DividedBy("d_head", setup.HeadDim)
            : value.DividedBy("sqrt(d_head)", Math.Sqrt(setup.HeadDim));
    }

    /// <summary>The rule for one tensor.</summary>
    /// <param name="setup">The setup.</param>
    /// <param name="tensor">What the tensor is: role, bias or not, fan-ins.</param>
    /// <returns>The tensor's rule with the formula of each number.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A number of the rule overflows or underflows the range of a normal double; for a tensor whose fan-ins are given, the exception names <paramref name="tensor"/>.</exception>
    internal static TensorRule RuleFor(RuleSetup setup, TensorDescriptor tensor)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(tensor);
        Validate(setup);
        return RuleFor(setup, tensor, tensor.FanIn is null ? "hyperparameters" : nameof(tensor));
    }

    /// <summary>The rule for one tensor, checked; a number out of range is blamed on <paramref name="blame"/>.</summary>
    /// <remarks>
    /// <paramref name="names"/> are the tensor's names (its own and any tied ones): the per-module entries of
    /// <see cref="BaseHyperparameters.Modules"/> whose name pattern matches one of them apply, as do those of its role.
    /// </remarks>
    internal static TensorRule RuleFor(RuleSetup setup, TensorDescriptor tensor, string blame, IReadOnlyList<string>? names = null)
    {
        try
        {
            return Checked(setup, tensor, blame, names ?? []);
        }
        catch (ScaledValueRangeException e)
        {
            throw RuleRange.Overflow(setup, tensor, e, blame);
        }
    }

    private static TensorRule Checked(RuleSetup setup, TensorDescriptor tensor, string blame, IReadOnlyList<string> names)
    {
        var hp = setup.Hyperparameters;
        var scaling = setup.Scaling;
        double modelWidth = scaling.WidthMultiplier;
        double tensorWidth = tensor.FanIn is { } fanIn && tensor.BaseFanIn is { } baseFanIn
            ? ShapeScaling.TensorWidthMultiplier(fanIn, baseFanIn)
            : modelWidth;
        bool inBlock = tensor.Role is TensorRole.HiddenNorm or TensorRole.HiddenWeight or TensorRole.HiddenBias or TensorRole.QkNorm or TensorRole.BlockReadout;
        bool widthRules = UsesWidth(setup);
        double? alpha = setup.Parameterization.DepthExponent;
        double mL = scaling.DepthMultiplier;

        // Per-module base hyperparameters: every entry that selects the tensor multiplies its base value, before any scaling,
        // so that the factor tuned at the base shape transfers by the same rules (docs/rules.md, "Per-module base hyperparameters").
        ScaledValue Module(ScaledValue value, HyperparameterField field) =>
            hp.For(field, tensor.Role, names).Aggregate(value, (v, m) => v.Times(m.Symbol, m.Factor));

        var eta = Module(ScaledValue.Base("eta", hp.LearningRate), HyperparameterField.LearningRate);
        var sigma = Module(ScaledValue.Base("sigma", hp.InitStd), HyperparameterField.InitStd);
        var lambda = Module(ScaledValue.Base("lambda", hp.WeightDecay), HyperparameterField.WeightDecay);
        var noDecay = ScaledValue.Constant(0.0);

        // The depth factor of learning rates inside blocks: m_L^(alpha-1).
        ScaledValue BlockDepthLr(ScaledValue v) => alpha is { } a ? v.Times("m_L", mL, a - 1, "(alpha-1)") : v;

        // Adam epsilon: eps * m_N^-1 * m_L^-alpha inside blocks (or everywhere, with the global scope). A tensor none of
        // whose dimensions scales with width (QK-norm) or whose gradient does not shrink like a hidden weight's (an
        // output-like weight, as the readout's) has no width factor (width null): only the block's depth factor.
        ScaledValue Epsilon(double? width)
        {
            var eps = Module(ScaledValue.Base("eps", hp.AdamEpsilon), HyperparameterField.AdamEpsilon);
            if (!widthRules || (!inBlock && setup.Options.EpsilonScope == EpsilonScope.ResidualBlocks))
            {
                return eps;
            }

            // The global scope is the reference code's one epsilon, scaled the same for every tensor.
            width ??= setup.Options.EpsilonScope == EpsilonScope.Global ? modelWidth : null;
            eps = width is { } w ? eps.Times("m_N", w, -1, "-1") : eps;
            return alpha is { } a ? eps.Times("m_L", mL, -a, "-alpha") : eps;
        }

        TensorRule Make(InitRule init, ScaledValue lr, ScaledValue wd, ScaledValue eps, double width, string row)
        {
            // Batch size and training length: their factors compose with Table 1's (TrainingRules; none without training shapes).
            (lr, wd, eps) = TrainingRules.Scale(setup, lr, wd, eps);
            var explained = new RuleExplanation(init, lr, wd, eps, TrainingRules.Beta1(setup), TrainingRules.Beta2(setup));
            RuleRange.Check(setup, tensor, explained, blame);
            string source = $"{Table1}, {row} ({setup.Parameterization})" + (setup.Training is null ? string.Empty : $"; {TrainingRules.Source}");
            return new(tensor.Role, tensor.IsBias, width, explained, source, setup.Options.WeightDecayConvention);
        }

        switch (tensor.Role)
        {
            // Embedding and unembedding share a row of Table 1: base init, learning rate and decay; the unembedding's
            // width factor is its forward multiplier alpha_out * m_N^-1 (ForwardMultipliers.Output).
            case TensorRole.Embedding or TensorRole.Unembedding:
                return Make(
                    tensor.IsBias ? InitRule.Constant(0) : InitRule.Normal(sigma),
                    eta,
                    tensor.IsBias ? noDecay : lambda,
                    Epsilon(modelWidth),
                    modelWidth,
                    tensor.Role == TensorRole.Embedding ? "embedding" : "unembedding (readout)");

            case TensorRole.HiddenNorm:
                return Make(
                    InitRule.Constant(tensor.IsBias ? 0 : 1),
                    widthRules ? BlockDepthLr(eta) : eta,
                    noDecay,
                    Epsilon(modelWidth),
                    modelWidth,
                    "hidden norm (LayerNorm/RMSNorm in a residual block)");

            case TensorRole.HiddenBias:
                return Make(
                    InitRule.Constant(0),
                    widthRules ? BlockDepthLr(eta) : eta,
                    noDecay,
                    Epsilon(modelWidth),
                    modelWidth,
                    "hidden bias");

            case TensorRole.HiddenWeight when tensor.IsBias:
                throw new ArgumentException("A hidden weight cannot be a bias: describe a Linear's bias with TensorRole.HiddenBias.", nameof(tensor));

            case TensorRole.HiddenWeight:
            {
                ScaledValue std = sigma;
                ScaledValue lr = eta;
                ScaledValue wd = lambda;
                if (widthRules)
                {
                    std = sigma.Times("m_N", tensorWidth, -0.5, "-1/2");
                    lr = BlockDepthLr(eta.Times("m_N", tensorWidth, -1, "-1"));
                    wd = setup.Options.WeightDecayConvention == WeightDecayConvention.Coupled
                        ? lambda.Times("m_N", tensorWidth, 1, "1")
                        : BlockDepthLr(lambda);
                }
                else if (setup.Options.Gpt2OutputProjectionInit && tensor.IsResidualOutputProjection)
                {
                    std = sigma.DividedBy("sqrt(2L)", Math.Sqrt(2.0 * setup.Target.Depth));
                }

                return Make(InitRule.Normal(std), lr, wd, Epsilon(tensorWidth), tensorWidth, "hidden weight");
            }

            // QK-norm: a gain over d_head, which stays fixed as width grows. Complete(d)P (Mlodozeniec et al. 2025) keeps its
            // epsilon constant in width; its learning rate has no width factor, as no norm gain's has. Inside a residual
            // branch it keeps the block's depth factors (docs/rules.md, "QK-norm").
            case TensorRole.QkNorm:
                return Make(
                    InitRule.Constant(tensor.IsBias ? 0 : 1),
                    widthRules ? BlockDepthLr(eta) : eta,
                    noDecay,
                    Epsilon(null),
                    modelWidth,
                    "hidden norm row with no width factor: QK-norm (Complete(d)P, Mlodozeniec et al. 2025)");

            // An output-like weight inside a block (an MoE router): the readout's width rule (init sigma, learning rate eta,
            // output x m_N^-1, folded or not) in the block's depth regime (learning rate x m_L^(alpha-1), epsilon x m_L^-alpha),
            // as muP's classification by which dimensions scale gives it (docs/rules.md, "MoE routers").
            case TensorRole.BlockReadout:
                return Make(
                    tensor.IsBias ? InitRule.Constant(0) : InitRule.Normal(sigma),
                    widthRules ? BlockDepthLr(eta) : eta,
                    tensor.IsBias ? noDecay : lambda,
                    Epsilon(null),
                    modelWidth,
                    "unembedding row in a block's depth regime: an output-like weight inside a block (muP's classification)");

            case TensorRole.FinalNorm:
                return Make(
                    InitRule.Constant(tensor.IsBias ? 0 : 1),
                    eta,
                    noDecay,
                    Epsilon(modelWidth),
                    modelWidth,
                    "final norm");

            default:
                throw new ArgumentOutOfRangeException(nameof(tensor), tensor.Role, $"Unknown role {tensor.Role}.");
        }
    }

    private static bool UsesWidth(RuleSetup setup) => setup.Parameterization.Kind != ParameterizationKind.Standard;
}
