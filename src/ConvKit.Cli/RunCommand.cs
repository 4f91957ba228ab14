using System.CommandLine;
using System.Globalization;
using ConvKit.Onnx;
using ConvKit.Vision.Imaging;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit run model.onnx --input IMG|DIR</c>: runs an ONNX model (exported by PyTorch, ConvKit or anything else
/// that uses the supported ops) on images. The image is converted to the channels the graph's input declares, scaled to
/// [0, 1], normalised by <c>--mean</c>/<c>--std</c>, and resized to the input's fixed H×W when the graph has one. An
/// output [1, K, h, w] is a segmentation: the logits are resized back to the image and written as a palette mask and an
/// overlay. An output [1, K] is a classification: the top class and its probability are printed.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file" };
        var input = new Option<string>("--input") { Description = "An image (.png, .jpg, .jpeg) or a folder of images", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder for masks and overlays of a segmentation model (default: next to each image's name in the current folder)" };
        var mean = new Option<string?>("--mean") { Description = "Per-channel mean subtracted after scaling to [0, 1], e.g. 0.485,0.456,0.406 (default 0)" };
        var std = new Option<string?>("--std") { Description = "Per-channel std divided by, e.g. 0.229,0.224,0.225 (default 1)" };
        var classes = new Option<string?>("--classes") { Description = "Class names, comma-separated, in output order" };

        var cmd = new Command("run", "Run an ONNX model on images (segmentation or classification head)") { model, input, output, mean, std, classes };
        cmd.SetAction(parse => CliRunner.Run("run", () =>
        {
            string path = parse.GetValue(model)!;
            OnnxGraphModule graph;
            try { graph = OnnxModel.Load(path); }
            catch (OnnxException e) when (!e.Message.Contains(path, StringComparison.Ordinal)) { throw new ArgumentException($"{path}: {e.Message}", e); }
            if (graph.InputNames.Count != 1 || graph.OutputNames.Count != 1)
                throw new ArgumentException($"expected a model with one image input and one output, got {graph.InputNames.Count} inputs and {graph.OutputNames.Count} outputs");
            var dims = graph.InputDims[0];
            if (dims.Length != 4) throw new ArgumentException($"expected an image input [N, C, H, W], the model declares {dims.Length} dims");
            int channels = dims[1] ?? 3;
            var m = Floats(parse.GetValue(mean), channels, 0f, "--mean");
            var s = Floats(parse.GetValue(std), channels, 1f, "--std");
            var names = parse.GetValue(classes)?.Split(',').Select(c => c.Trim()).ToArray() ?? [];
            string outDir = parse.GetValue(output) ?? ".";
            graph.Eval();
            foreach (var file in ModelInput.ListImages(parse.GetValue(input)!))
            {
                // Each image's tensors go back to the pool when it is written, so a folder runs in the memory of one image.
                using var scope = TensorScope.Begin();
                var image = ImageFile.Read(file);
                var x = ConvKit.Data.Transforms.Normalize(m, s)(image.ToTensor(channels), Generator.Current).Unsqueeze(0);
                if (dims[2] is int h && dims[3] is int w && (h != image.Height || w != image.Width))
                    x = F.Interpolate(x, size: (h, w), mode: "bilinear", alignCorners: false);
                Tensor y;
                using (Autograd.NoGrad()) y = graph.Forward(x);
                if (y.Dim == 4)
                {
                    if (y.Sizes[2] != image.Height || y.Sizes[3] != image.Width)
                        y = F.Interpolate(y, size: (image.Height, image.Width), mode: "bilinear", alignCorners: false);
                    Directory.CreateDirectory(outDir);
                    PredictCommand.WriteMask(names, file, image, y, outDir);
                }
                else if (y.Dim == 2) PredictCommand.PrintClass(names, file, y);
                else throw new ArgumentException($"expected an output [1, K] (classification) or [1, K, H, W] (segmentation), got {ShapeUtil.Format(y.Sizes)}");
            }
            return 0;
        }));
        return cmd;
    }

    private static float[] Floats(string? text, int count, float fallback, string option)
    {
        if (text is null) return Enumerable.Repeat(fallback, count).ToArray();
        var parts = text.Split(',');
        var v = new float[parts.Length];
        if (parts.Length != count || parts.Where((p, i) => !float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])).Any())
            throw new ArgumentException($"{option}: expected {count} comma-separated numbers (one per input channel), got '{text}'");
        if (option == "--std" && v.Any(x => !(x > 0))) throw new ArgumentException($"--std: expected positive numbers, got '{text}'");
        return v;
    }
}
