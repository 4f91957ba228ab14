using System.CommandLine;
using ConvKit.Vision.Models;

namespace ConvKit.Cli;

/// <summary>Options shared by the commands that run a trained model.</summary>
internal static class CliOptions
{
    public static Option<string> Checkpoint() => new("--checkpoint")
    {
        Description = "Checkpoint written by convkit train (safetensors with the model name, classes and normalisation)",
        Required = true,
    };

    /// <summary>The model of the checkpoint named by <paramref name="option"/>, in evaluation mode.</summary>
    public static TrainedModel LoadModel(ParseResult parse, Option<string> option) => TrainedModel.Load(parse.GetValue(option)!);
}
