using ConvKit.Cli;

return CliApp.Build().Parse(args).Invoke();
