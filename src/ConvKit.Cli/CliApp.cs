using System.CommandLine;

namespace ConvKit.Cli;

/// <summary>The <c>convkit</c> root command with every subcommand; Program.cs and the tests invoke it.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("convkit: train and run convolutional networks in .NET");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(VizCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(UpsampleCommand.Create());
        return root;
    }
}
