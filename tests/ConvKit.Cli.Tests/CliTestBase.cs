using ConvKit.Serialization;
using ConvKit.Tests;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using Xunit;

// The commands write to the process-wide Console, so the tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ConvKit.Cli.Tests;

/// <summary>Runs <c>convkit</c> in-process through <see cref="CliApp.Run"/> (the System.CommandLine root of <see cref="CliApp.Build"/>) and makes tiny checkpoints and images in a temp folder.</summary>
public abstract class CliTestBase : TempDirectory
{
    /// <summary>Exit code, stdout and stderr of <c>convkit args</c>.</summary>
    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = CliApp.Run(args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>Asserts a bad-input failure: exit code 2 and exactly one stderr line naming the command and containing <paramref name="expected"/>.</summary>
    protected static void AssertFails((int Code, string Out, string Err) result, string command, string expected)
    {
        Assert.Equal(2, result.Code);
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"convkit {command}: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    /// <summary>A fresh (untrained) model of the registry saved as a checkpoint at epoch 3, with <paramref name="edit"/> applied to its metadata.</summary>
    protected string SaveCheckpoint(string model, int inChannels, int numClasses, IReadOnlyList<string>? classNames = null,
        Action<Dictionary<string, string>>? edit = null, string? name = null)
    {
        TrainedModel trained;
        using (Generator.Use(new Generator(7)))
            trained = TrainedModel.Create(ModelRegistry.Get(model), inChannels, numClasses, classNames,
                Enumerable.Repeat(0.5f, inChannels).ToArray(), Enumerable.Repeat(0.25f, inChannels).ToArray());
        var info = new Dictionary<string, string>(trained.Info());
        edit?.Invoke(info);
        string path = PathOf(name ?? $"{model}.safetensors");
        Checkpoint.Save(path, trained.Module, epoch: 3, info: info);
        return path;
    }

    protected string UNetCheckpoint() => SaveCheckpoint("unet-small", 3, SyntheticShapes.NumClasses, SyntheticShapes.ClassNames);

    protected string ClassifierCheckpoint() => SaveCheckpoint("se-cnn", 1, 10, Enumerable.Range(0, 10).Select(i => $"item{i}").ToArray());

    /// <summary>A PNG of random pixels with <paramref name="channels"/> channels.</summary>
    protected string SaveImage(string name, int width, int height, int channels, int seed = 1)
    {
        var data = new byte[width * height * channels];
        new Random(seed).NextBytes(data);
        string path = PathOf(name);
        ImageFile.WritePng(path, new Image(width, height, channels, data));
        return path;
    }

    protected string SaveCorrupt(string name)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        return path;
    }
}
