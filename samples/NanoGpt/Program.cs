using NanoGpt.Cli;

return NanoGptCli.Run(args, Console.Out, Console.Error);
