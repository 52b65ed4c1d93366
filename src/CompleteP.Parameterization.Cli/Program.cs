using CompleteP.Parameterization.Cli;

return CompletepCli.Run(args, Console.Out, Console.Error);
