using System.CommandLine;
using System.Globalization;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit predict</c>: runs a checkpoint's model on one image or a folder of images at their own size. A
/// segmentation model writes <c>&lt;name&gt;_mask.png</c> (class ids, VOC palette) and <c>&lt;name&gt;_overlay.png</c>;
/// a classifier prints <c>&lt;file&gt;: &lt;class&gt; (p=0.93)</c> per image.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.Checkpoint();
        var input = new Option<string>("--input") { Description = "An image (.png, .jpg, .jpeg) or a folder of images", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder for the masks and overlays of a segmentation model (created if missing)" };

        var cmd = new Command("predict", "Predict masks or classes for images with a checkpoint") { checkpoint, input, output };
        cmd.SetAction(parse => CliRunner.Run("predict", () =>
        {
            var model = CliOptions.LoadModel(parse, checkpoint);
            var files = ModelInput.ListImages(parse.GetValue(input)!);
            string? outDir = parse.GetValue(output);
            if (model.Spec.Task == ModelTask.Segmentation)
            {
                if (outDir is null) throw new ArgumentException($"{model.Spec.Name} is a segmentation model: --out is required for the masks");
                Directory.CreateDirectory(outDir);
            }
            foreach (var file in files)
            {
                // Each image's tensors go back to the pool when it is written, so a folder runs in the memory of one image.
                using var scope = TensorScope.Begin();
                var logits = ModelInput.Run(model, ModelInput.Load(model, file, out var image));
                if (model.Spec.Task == ModelTask.Segmentation) WriteMask(model.ClassNames, file, image, logits, outDir!);
                else PrintClass(model.ClassNames, file, logits);
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Writes the argmax of <paramref name="logits"/> [1, K, H, W] as a palette mask and an overlay, and prints the class shares.</summary>
    internal static void WriteMask(IReadOnlyList<string> classNames, string file, Image image, Tensor logits, string outDir)
    {
        var ids = logits.Argmax(1).Reshape(image.Height, image.Width);
        var mask = Image.FromClassIds(ids);
        string name = Path.GetFileNameWithoutExtension(file);
        string maskPath = Path.Combine(outDir, name + "_mask.png"), overlayPath = Path.Combine(outDir, name + "_overlay.png");
        ImageFile.WritePng(maskPath, mask);
        ImageFile.WritePng(overlayPath, ConvKit.Vision.Imaging.Overlay.Draw(image, ids));
        var counts = ids.ToArray().GroupBy(id => id).OrderBy(g => g.Key)
            .Select(g => FormattableString.Invariant($"{ClassName(classNames, (int)g.Key)} {100.0 * g.Count() / ids.Numel:F1}%"));
        Console.WriteLine($"{file}: {maskPath}, {overlayPath} ({string.Join(", ", counts)})");
    }

    /// <summary>Prints the most probable class of <paramref name="logits"/> [1, K] with its softmax probability.</summary>
    internal static void PrintClass(IReadOnlyList<string> classNames, string file, Tensor logits)
    {
        var probs = F.Softmax(logits, 1).ToArray();
        int best = Array.IndexOf(probs, probs.Max());
        Console.WriteLine($"{file}: {ClassName(classNames, best)} (p={probs[best].ToString("F2", CultureInfo.InvariantCulture)})");
    }

    private static string ClassName(IReadOnlyList<string> classNames, int id) => id < classNames.Count ? classNames[id] : $"class {id}";
}
