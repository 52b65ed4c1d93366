namespace NanoGpt.Cli;

/// <summary>Bad command-line input: the message names the option, the value and the valid range (exit code 2).</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message) : base(message)
    {
    }

    public UsageException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public UsageException()
    {
    }
}
