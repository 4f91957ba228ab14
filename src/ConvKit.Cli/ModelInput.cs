using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;

namespace ConvKit.Cli;

/// <summary>Image files as model input: listing an input path, converting channels, normalising.</summary>
internal static class ModelInput
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>The image itself, or every .png/.jpg/.jpeg in a folder (sorted by name); an error when there is none.</summary>
    public static IReadOnlyList<string> ListImages(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input)) throw new FileNotFoundException($"input not found: {input} (expected an image file or a folder of images)");
        var files = Directory.EnumerateFiles(input)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToArray();
        return files.Length > 0 ? files : throw new ArgumentException($"no .png, .jpg or .jpeg images in {input}");
    }

    /// <summary>
    /// The image with <paramref name="channels"/> channels, 1 (grey) or 3 (RGB): palette images become RGB, alpha is
    /// dropped, grey is replicated to RGB and RGB becomes grey by ITU-R 601 luma (PIL's <c>convert("L")</c>).
    /// </summary>
    public static Image Convert(Image image, int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"expected a model for 1 (grey) or 3 (RGB) channel images, got {channels} channels");
        image = image.ToRgb();
        int src = image.Channels;
        if (src == channels) return image;
        var result = new Image(image.Width, image.Height, channels);
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            var px = image.Data.AsSpan(i * src, src);
            if (channels == 1)
                result.Data[i] = src >= 3 ? (byte)((px[0] * 19595 + px[1] * 38470 + px[2] * 7471 + 0x8000) >> 16) : px[0];
            else if (src >= 3)
                px[..3].CopyTo(result.Data.AsSpan(i * 3, 3));
            else
                result.Data.AsSpan(i * 3, 3).Fill(px[0]);
        }
        return result;
    }

    /// <summary>The image read from <paramref name="path"/> as a normalised batch [1, C, H, W] for the model.</summary>
    public static Tensor Load(TrainedModel model, string path, out Image image)
    {
        image = ImageFile.Read(path);
        return model.Normalize(Convert(image, model.InChannels).ToTensor()).Unsqueeze(0);
    }

    /// <summary>A shape as PyTorch prints it, <c>[1, 16, 8, 8]</c>.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Runs the model without recording gradients.</summary>
    public static Tensor Run(TrainedModel model, Tensor batch)
    {
        using (Autograd.NoGrad()) return model.Module.Forward(batch);
    }
}
