using ConvKit.Cli;

return CliApp.Run(args);
