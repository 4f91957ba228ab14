using ConvKit.Data;
using ConvKit.Serialization;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Training;

namespace ConvKit.Cli;

/// <summary>
/// Runs a command's body and turns the typed errors of bad input (arguments, missing or malformed files, datasets,
/// checkpoints, a diverged run) into one line on stderr, <c>convkit &lt;command&gt;: message</c>, and an exit code:
/// 2 for bad input, 3 for a diverged training run. Anything else is a bug and keeps its stack trace.
/// </summary>
internal static class CliRunner
{
    public static int Run(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"convkit {command}: {e.Message.Replace("\n\t", "; ")}");
            return e is TrainingDivergedException ? 3 : 2;
        }
    }

    private static bool IsUserError(Exception e) => e is ArgumentException or FileNotFoundException or DirectoryNotFoundException
        or DatasetNotFoundException or DataFormatException or SafeTensorsException or ImageFormatException or UnsupportedImageException
        or ConvKit.Onnx.OnnxException or TrainingDivergedException or UnauthorizedAccessException;
}
