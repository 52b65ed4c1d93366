using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Forward hooks on any module that TorchSharp can hook (every <c>Module&lt;...&gt;</c> of any arity, whatever its input
/// and output types), for counting that a module ran; and the scaling hooks of <see cref="MultiplierHook"/>s. TorchSharp
/// runs hooks only for <c>module.call(...)</c>, never for <c>module.forward(...)</c>, and a non-generic <c>nn.Module</c>
/// has none.
/// </summary>
internal static class ModuleHooks
{
    /// <summary>Calls <paramref name="ran"/> after each forward of the module through <c>call</c>; returns the remover, or null when the module cannot be hooked.</summary>
    public static Action? AfterForward(nn.Module module, Action ran)
    {
        var method = module.GetType().GetMethod("register_forward_hook", BindingFlags.Public | BindingFlags.Instance, [typeof(Action<nn.Module>)]);
        if (method is null)
        {
            return null;
        }

        object remover = method.Invoke(module, [(Action<nn.Module>)(_ => ran())])!;
        var remove = remover.GetType().GetMethod("remove", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)!;
        return () => remove.Invoke(remover, null);
    }

    /// <summary>Installs the scaling hook of each multiplier hook; returns the removers.</summary>
    public static List<Action> InstallScaling(IReadOnlyList<(MultiplierHook Hook, nn.Module Module)> hooks)
    {
        var removers = new List<Action>();
        foreach (var (hook, module) in hooks)
        {
            // The factor as a Scalar the hook holds for its lifetime: a double converted implicitly on every call would be freed
            // by the finalizer alone, possibly while the native multiply still reads it.
            var factor = hook.Value.Value.ToScalar();
            var handle = ((nn.Module<Tensor, Tensor>)module).register_forward_hook((_, _, output) => output.mul(factor));
            removers.Add(() =>
            {
                handle.remove();
                factor.Dispose();
            });
        }

        return removers;
    }

    /// <summary>
    /// Runs the sample forward in eval mode without gradients, counting which of the modules ran through <c>call</c>;
    /// returns the names of those that did not. The training flags of every module are restored.
    /// </summary>
    public static IReadOnlyList<string> NotRunBy(Action sampleForward, nn.Module model, IReadOnlyList<(string Name, nn.Module Module)> modules)
    {
        var ran = new HashSet<string>(StringComparer.Ordinal);
        var removers = modules.Select(m => AfterForward(m.Module, () => ran.Add(m.Name))).Where(r => r is not null).ToList();
        var flags = Flags(model);
        try
        {
            model.eval();
            using var noGrad = no_grad();
            sampleForward();
        }
        finally
        {
            removers.ForEach(r => r!());
            foreach (var (module, training) in flags)
            {
                module.train(training);
            }
        }

        return modules.Where(m => !ran.Contains(m.Name)).Select(m => m.Name).ToList();
    }

    /// <summary>Every module's training flag, root first, so that restoring them in order leaves each as it was.</summary>
    private static List<(nn.Module Module, bool Training)> Flags(nn.Module model)
    {
        var flags = new List<(nn.Module, bool)>();
        void Walk(nn.Module m)
        {
            flags.Add((m, m.training));
            foreach (var (_, child) in m.named_children())
            {
                Walk(child);
            }
        }

        Walk(model);
        return flags;
    }
}
