using CompleteP.Cli;

return CompletepCli.Run(args, Console.Out, Console.Error);
