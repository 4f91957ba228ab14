using System.CommandLine;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit upsample</c>: scales an image up with the bilinear transposed convolution of the FCN tutorial
/// (<see cref="BilinearUpsampler"/>: kernel 2f, stride f, padding f/2), clamps to [0, 1] and writes a PNG.
/// </summary>
internal static class UpsampleCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Image to upsample (PNG or JPEG; grey stays grey, colour becomes RGB, alpha is dropped)" };
        var output = new Argument<string>("output") { Description = "The PNG to write" };
        var factor = new Option<int>("--factor") { Description = "Scale factor, even (2: kernel 4, stride 2, padding 1)", DefaultValueFactory = _ => 2 };

        var cmd = new Command("upsample", "Upsample an image with the bilinear transposed convolution") { input, output, factor };
        cmd.SetAction(parse => CliRunner.Run("upsample", () =>
        {
            var image = ImageFile.Read(parse.GetValue(input)!);
            var result = Upsample(image, parse.GetValue(factor));
            string path = parse.GetValue(output)!;
            ImageFile.WritePng(path, result);
            Console.WriteLine($"{image.Width}x{image.Height} -> {result.Width}x{result.Height}: {path}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The image (as grey or RGB, without alpha) upsampled <paramref name="factor"/> times.</summary>
    internal static Image Upsample(Image image, int factor)
    {
        var rgbOrGrey = image.ToChannels(image.IsIndexed || image.Channels >= 3 ? 3 : 1);
        var upsampler = new BilinearUpsampler(rgbOrGrey.Channels, factor);
        using (Autograd.NoGrad())
            return Image.FromTensor(upsampler.Forward(rgbOrGrey.ToTensor()).Clamp(0f, 1f));
    }
}
