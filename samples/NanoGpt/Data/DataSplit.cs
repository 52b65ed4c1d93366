namespace NanoGpt;

/// <summary>Which part of the corpus to sample from: the first 90% (train) or the last 10% (validation).</summary>
public enum DataSplit
{
    /// <summary>The first 90% of the characters.</summary>
    Train,

    /// <summary>The last 10% of the characters.</summary>
    Val,
}
