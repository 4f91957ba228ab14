using System.CommandLine;
using ConvKit.Onnx;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit export --checkpoint ck.safetensors --out model.onnx [--input-size HxW]</c>: writes the checkpoint's model
/// as ONNX (opset 13) for an input [1, C, H, W], atomically. Normalisation is not part of the graph: run the model with
/// the mean and std the export prints (<c>convkit run --mean … --std …</c>).
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.Checkpoint();
        var output = new Option<string>("--out") { Description = "The .onnx file to write", Required = true };
        var size = new Option<string>("--input-size") { Description = "Input height x width, e.g. 32x32 or 224x224", DefaultValueFactory = _ => "64x64" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset (13 or newer)", DefaultValueFactory = _ => 13 };

        var cmd = new Command("export", "Export a checkpoint's model as ONNX") { checkpoint, output, size, opset };
        cmd.SetAction(parse => CliRunner.Run("export", () =>
        {
            var model = CliOptions.LoadModel(parse, checkpoint);
            string text = parse.GetValue(size)!;
            var parts = text.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int w) || h < 1 || w < 1)
                throw new ArgumentException($"--input-size: expected HxW with positive sizes, e.g. 32x32, got '{text}'");
            string path = parse.GetValue(output)!;
            OnnxExport.Save(model.Module, [1, model.InChannels, h, w], path, parse.GetValue(opset));
            Console.WriteLine($"{model.Spec.Name} [1, {model.InChannels}, {h}, {w}] -> {path}; run it with --mean {string.Join(",", model.Mean)} --std {string.Join(",", model.Std)}" +
                              $" --classes {string.Join(",", model.ClassNames)}");
            return 0;
        }));
        return cmd;
    }
}
