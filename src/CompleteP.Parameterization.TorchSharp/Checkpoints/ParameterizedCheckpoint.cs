using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Saves a parameterized model with its plan, and loads it back with the parameterization intact:
/// the weights go to <c>path</c> (TorchSharp's format), the plan to <c>path.plan.json</c>, and the
/// optimizer state (when given) to <c>path.optim</c>. Loading re-attaches the plan (multipliers and
/// optimizer groups) without re-initializing.
/// </summary>
public static class ParameterizedCheckpoint
{
    /// <summary>The plan file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.plan.json</c>.</returns>
    public static string PlanPath(string path) => path + ".plan.json";

    /// <summary>The optimizer-state file beside a weights file.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns><c>path.optim</c>.</returns>
    public static string OptimizerPath(string path) => path + ".optim";

    /// <summary>Saves the weights, the plan and, when given, the optimizer state.</summary>
    /// <param name="model">The parameterized model.</param>
    /// <param name="plan">The plan Apply returned.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="optimizer">The optimizer whose state to save, or null.</param>
    public static void Save(nn.Module model, ParameterizationPlan plan, string path, optim.Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        model.save(path);
        File.WriteAllText(PlanPath(path), PlanJson.Serialize(plan));
        if (optimizer is not null)
        {
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(OptimizerPath(path));
        }
    }

    /// <summary>
    /// Loads weights and plan into a freshly built model of the same architecture, re-attaches the
    /// plan (forward multipliers, optimizer groups) and restores the optimizer state if it was saved.
    /// </summary>
    /// <param name="model">A fresh model of the saved architecture and shape.</param>
    /// <param name="optimizer">Its optimizer, built from <c>model.parameters()</c>.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="declarations">The declarations Apply used, if any.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="FileNotFoundException">The weights or the plan file is missing.</exception>
    public static ParameterizationPlan Load(nn.Module model, optim.Optimizer optimizer, string path, ModelDeclarations? declarations = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(PlanPath(path)))
        {
            throw new FileNotFoundException($"No plan beside the weights: '{PlanPath(path)}' is missing (save with ParameterizedCheckpoint.Save).", PlanPath(path));
        }

        var plan = PlanJson.Deserialize(File.ReadAllText(PlanPath(path)));
        model.load(path);
        Parameterize.Attach(model, optimizer, plan, declarations);
        if (File.Exists(OptimizerPath(path)))
        {
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(OptimizerPath(path));
        }

        return plan;
    }
}
