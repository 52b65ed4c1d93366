namespace CompleteP.CoordinateChecks;

/// <summary>A coordinate-check assertion failed; the message names the module, step, slope and tolerance.</summary>
public sealed class CoordinateCheckFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    internal CoordinateCheckFailedException(string message) : base(message)
    {
    }
}
