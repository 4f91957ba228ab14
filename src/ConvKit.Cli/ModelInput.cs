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

    /// <summary>The image read from <paramref name="path"/> as a normalised batch [1, C, H, W] for the model.</summary>
    public static Tensor Load(TrainedModel model, string path, out Image image)
    {
        image = ImageFile.Read(path);
        return model.Normalize(image.ToTensor(model.InChannels)).Unsqueeze(0);
    }

    /// <summary>A shape as PyTorch prints it, <c>[1, 16, 8, 8]</c>.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Runs the model without recording gradients.</summary>
    public static Tensor Run(TrainedModel model, Tensor batch)
    {
        using (Autograd.NoGrad()) return model.Module.Forward(batch);
    }
}
