using CompleteP.Cli;

namespace CompleteP.Tests.Cli;

/// <summary>Runs the <c>completep</c> command line in process, and finds files of the repository.</summary>
internal static class Completep
{
    /// <summary>Runs a command line; returns the exit code, standard output and standard error.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CompletepCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A file of the repository, by its path from the root (the folder holding the solution).</summary>
    public static string RepositoryFile(string relativePath)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CompleteP.Parameterization.sln")))
            {
                return Path.Combine(folder.FullName, relativePath);
            }
        }

        throw new DirectoryNotFoundException($"No folder above {AppContext.BaseDirectory} holds CompleteP.Parameterization.sln.");
    }
}
