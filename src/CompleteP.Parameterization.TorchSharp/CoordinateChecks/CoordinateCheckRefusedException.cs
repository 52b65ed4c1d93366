namespace CompleteP.CoordinateChecks;

/// <summary>
/// Thrown when a coordinate or laziness check cannot see the model: a module it must record produced no
/// measurement (TorchSharp runs hooks only for <c>module.call(x)</c>), or a residual branch cannot be called on
/// its own. A check that cannot see cannot judge, so it refuses rather than pass.
/// </summary>
public sealed class CoordinateCheckRefusedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="modules">The modules the check could not see.</param>
    /// <param name="message">What happened and what to do.</param>
    internal CoordinateCheckRefusedException(IReadOnlyList<string> modules, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(modules);
        Modules = modules;
    }

    /// <summary>The modules the check could not see.</summary>
    public IReadOnlyList<string> Modules { get; }
}
