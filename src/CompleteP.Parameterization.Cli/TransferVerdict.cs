namespace CompleteP.Cli;

/// <summary>What a sweep says about one shape: does the base shape's best learning rate transfer to it?</summary>
internal enum TransferVerdict
{
    /// <summary>The best learning rate moved by at most the tolerance (in octaves) from the base shape's.</summary>
    Transfers,

    /// <summary>The best learning rate moved by more than the tolerance, and using the base shape's costs more loss than 2 standard errors.</summary>
    Drifts,

    /// <summary>The data cannot decide: an optimum on the grid's edge, fewer than 3 seeds or learning rates, no base shape, or a regret within 2 standard errors of zero although the optimum moved.</summary>
    Inconclusive,
}
