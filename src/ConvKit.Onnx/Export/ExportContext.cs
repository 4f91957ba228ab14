using ConvKit.Nn;

namespace ConvKit.Onnx;

/// <summary>Exports one module applied to a value: emits its nodes and returns its output value.</summary>
internal delegate ExportValue ModuleExporter(ExportContext ctx, Module module, string path, ExportValue x);

/// <summary>
/// Walks a module tree: each known module type has an exporter that emits ONNX nodes and computes the module's
/// actual output with ConvKit (so every later node knows its input shape, e.g. for crops).
/// </summary>
/// <summary>Stands for AtrousPyramid's private image-pooling branch in the exporter table.</summary>
internal sealed class ImagePoolingMarker;

internal sealed class ExportContext
{
    private static readonly Dictionary<Type, ModuleExporter> Exporters = new();

    static ExportContext()
    {
        NnExporters.Register(Exporters);
        VisionExporters.Register(Exporters);
    }

    public OnnxGraphBuilder B { get; } = new();

    public static IReadOnlyList<string> SupportedModules => Exporters.Keys.Select(t => t.Name).Order().ToList();

    public ExportValue Export(Module m, string path, ExportValue x)
    {
        var type = m.GetType();
        if (!Exporters.TryGetValue(type, out var exporter) && !(type.IsGenericType && Exporters.TryGetValue(type.GetGenericTypeDefinition(), out exporter))
            && !(type.Name == "ImagePooling" && Exporters.TryGetValue(typeof(ImagePoolingMarker), out exporter)))
            throw new OnnxExportException($"ONNX export: module '{(path.Length == 0 ? "(root)" : path)}' of type {type.Name} is not supported; supported: {string.Join(", ", SupportedModules)}");
        return exporter(this, m, path, x);
    }

    public static string Sub(string path, string child) => path.Length == 0 ? child : path + "." + child;

    /// <summary>Emits a node; <paramref name="value"/> is its output as ConvKit computes it.</summary>
    public ExportValue Op(string op, string path, string[] inputs, Tensor value, params Proto.AttributeProto[] attrs) =>
        new(B.Node(op, path, inputs, attrs), value);

    public ExportValue Relu(string path, ExportValue x) => Op("Relu", path, [x.Name], F.Relu(x.Value));

    /// <summary>Children of a container in order (Sequential, ModuleList, a module of numbered children).</summary>
    public ExportValue Chain(IEnumerable<(string Name, Module Module)> children, string path, ExportValue x)
    {
        foreach (var (name, child) in children) x = Export(child, Sub(path, name), x);
        return x;
    }

    /// <summary>Crops (Slice) or zero-pads (Pad) the bottom/right of [N, C, H, W] to (h, w), as UNet's CropTo and FCN's final crop.</summary>
    public ExportValue CropOrPad(ExportValue x, int h, int w, string path)
    {
        int xh = x.Value.Shape[2], xw = x.Value.Shape[3];
        if (xh == h && xw == w) return x;
        if (h <= xh && w <= xw)
            return Op("Slice", path + "/crop", [x.Name, B.Ints("starts", 0, 0), B.Ints("ends", h, w), B.Ints("axes", 2, 3)],
                      x.Value.Narrow(2, 0, h).Narrow(3, 0, w));
        var pads = B.Ints("pads", 0, 0, 0, 0, 0, 0, h - xh, w - xw);
        return Op("Pad", path + "/pad", [x.Name, pads], F.Pad(x.Value, [0, w - xw, 0, h - xh]), OnnxGraphBuilder.Attr("mode", "constant"));
    }
}
