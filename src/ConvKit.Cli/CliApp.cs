using System.CommandLine;
using System.CommandLine.Parsing;

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
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs <c>convkit args</c>. A parse error (unknown option, missing required option, bad value) is one
    /// line on stderr, <c>convkit &lt;command&gt;: message (see --help)</c>, and exit code 2, like the commands' own input errors.
    /// </summary>
    public static int Run(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count == 0) return parse.Invoke();
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult { Parent: not null } c; r = c.Parent) names.Insert(0, " " + c.Command.Name);
        Console.Error.WriteLine($"convkit{string.Concat(names)}: {string.Join(" ", parse.Errors.Select(e => e.Message))} (see --help)");
        return 2;
    }
}
