namespace NanoGpt;

/// <summary>The shape of the learning rate over training (a factor on every parameter group's own LR).</summary>
public enum LrSchedule
{
    /// <summary>The base LR throughout, after an optional linear warm-up.</summary>
    Constant,

    /// <summary>Linear warm-up, then cosine decay to a fraction of the base LR (nanoGPT's <c>get_lr</c>).</summary>
    Cosine,
}
