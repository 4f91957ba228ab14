using System.CommandLine;
using ConvKit.Nn;
using ConvKit.Vision.Imaging;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit viz</c>: runs a checkpoint's model on an image, captures the output [1, C, h, w] of one named layer
/// with a forward hook and writes its channels as a grid of grey tiles (the tutorials' "conv output as images").
/// </summary>
internal static class VizCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.Checkpoint();
        var input = new Option<string>("--input") { Description = "The image to run the model on", Required = true };
        var layer = new Option<string>("--layer") { Description = "Dotted module name as in named_modules(), e.g. enc.1.0", Required = true };
        var output = new Option<string>("--out") { Description = "The PNG to write", Required = true };
        var maxChannels = new Option<int>("--max-channels") { Description = "Show at most the first N channels", DefaultValueFactory = _ => 64 };
        var minTile = new Option<int>("--min-tile") { Description = "Upscale small maps (nearest) until a tile's longer side has this many pixels (0: never)", DefaultValueFactory = _ => 32 };

        var cmd = new Command("viz", "Write a layer's feature maps for an image as a PNG grid") { checkpoint, input, layer, output, maxChannels, minTile };
        cmd.SetAction(parse => CliRunner.Run("viz", () =>
        {
            int max = parse.GetValue(maxChannels);
            if (max < 1) throw new ArgumentException($"--max-channels must be at least 1, got {max}");
            var model = CliOptions.LoadModel(parse, checkpoint);
            string name = parse.GetValue(layer)!;
            var target = Find(model.Module, name);
            var batch = ModelInput.Load(model, parse.GetValue(input)!, out _);
            Tensor? captured = null;
            using (target.RegisterForwardHook((_, _, o) => captured = o))
                ModelInput.Run(model, batch);
            if (captured is null) throw new ArgumentException($"layer '{name}' ({target.GetType().Name}) was not run by {model.Spec.Name}'s forward pass");
            if (captured.Dim != 4 || captured.Size(0) != 1)
                throw new ArgumentException($"layer '{name}' ({target.GetType().Name}) outputs {ModelInput.FormatShape(captured.Shape)}; expected feature maps [1, C, h, w]");
            int shown = Math.Min(max, captured.Size(1));
            var grid = FeatureGrid.Build(captured.Select(0, 0).Narrow(0, 0, shown), parse.GetValue(minTile));
            string path = parse.GetValue(output)!;
            ImageFile.WritePng(path, grid);
            Console.WriteLine($"{name} ({target.GetType().Name}): output {ModelInput.FormatShape(captured.Shape)}, {shown} channels -> {path} ({grid.Width}x{grid.Height})");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The module named <paramref name="name"/>; an unknown name is an error listing the names there are.</summary>
    private static Module Find(Module model, string name)
    {
        var modules = model.NamedModules().Where(m => m.Name.Length > 0).ToList();
        return modules.FirstOrDefault(m => m.Name == name).Module
            ?? throw new ArgumentException($"unknown layer '{name}'; available: {string.Join(", ", modules.Select(m => m.Name))}");
    }
}
