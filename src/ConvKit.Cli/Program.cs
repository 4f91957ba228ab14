using System.CommandLine;
using ConvKit.Cli;

var root = new RootCommand("convkit: train and run convolutional networks in .NET");
root.Subcommands.Add(TrainCommand.Create());
return root.Parse(args).Invoke();
