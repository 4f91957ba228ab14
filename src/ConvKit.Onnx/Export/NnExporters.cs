using ConvKit.Nn;
using static ConvKit.Onnx.OnnxGraphBuilder;

namespace ConvKit.Onnx;

/// <summary>Exporters of ConvKit.Nn modules: containers, Conv2d, ConvTranspose2d, BatchNorm2d, activations, pooling, Flatten, Linear, Upsample, SE.</summary>
internal static class NnExporters
{
    public static void Register(Dictionary<Type, ModuleExporter> r)
    {
        r[typeof(Sequential)] = (c, m, p, x) => c.Chain(m.NamedChildren(), p, x);
        r[typeof(Identity)] = (c, m, p, x) => x;
        r[typeof(Dropout)] = (c, m, p, x) => x; // inference graph
        r[typeof(Conv2d)] = (c, m, p, x) => Conv(c, (Conv2d)m, p, x);
        r[typeof(ConvTranspose2d)] = (c, m, p, x) => ConvTranspose(c, (ConvTranspose2d)m, p, x);
        r[typeof(BatchNorm2d)] = (c, m, p, x) => BatchNorm(c, (BatchNorm2d)m, p, x);
        r[typeof(ReLU)] = (c, m, p, x) => c.Relu(p, x);
        r[typeof(Sigmoid)] = (c, m, p, x) => c.Op("Sigmoid", p, [x.Name], F.Sigmoid(x.Value));
        r[typeof(Tanh)] = (c, m, p, x) => c.Op("Tanh", p, [x.Name], F.Tanh(x.Value));
        r[typeof(ReLU6)] = (c, m, p, x) => c.Op("Clip", p, [x.Name, c.B.Floats(p + ".min", true, 0f), c.B.Floats(p + ".max", true, 6f)], F.Relu6(x.Value));
        r[typeof(LeakyReLU)] = (c, m, p, x) => c.Op("LeakyRelu", p, [x.Name], m.Call(x.Value), Attr("alpha", ((LeakyReLU)m).NegativeSlope));
        r[typeof(Softmax)] = (c, m, p, x) => c.Op("Softmax", p, [x.Name], m.Call(x.Value), Attr("axis", (long)((Softmax)m).Dim));
        r[typeof(MaxPool2d)] = (c, m, p, x) => MaxPool(c, (MaxPool2d)m, p, x);
        r[typeof(AvgPool2d)] = (c, m, p, x) => AvgPool(c, (AvgPool2d)m, p, x);
        r[typeof(AdaptiveAvgPool2d)] = (c, m, p, x) => AdaptiveAvgPool(c, (AdaptiveAvgPool2d)m, p, x);
        r[typeof(Flatten)] = (c, m, p, x) => Flatten(c, (Flatten)m, p, x);
        r[typeof(Linear)] = (c, m, p, x) => Linear(c, (Linear)m, p, x);
        r[typeof(Upsample)] = (c, m, p, x) => Upsample(c, (Upsample)m, p, x);
        r[typeof(SqueezeExcitation)] = (c, m, p, x) => SE(c, (SqueezeExcitation)m, p, x);
    }

    private static long[] HW(Pair v) => [v.H, v.W];

    private static ExportValue Conv(ExportContext c, Conv2d m, string p, ExportValue x)
    {
        int kh = m.Weight.Shape[2], kw = m.Weight.Shape[3];
        int th = m.Dilation.H * (kh - 1), tw = m.Dilation.W * (kw - 1);
        long[] pads = m.Padding.IsSame ? [th / 2, tw / 2, th - th / 2, tw - tw / 2] : [m.Padding.Size.H, m.Padding.Size.W, m.Padding.Size.H, m.Padding.Size.W];
        var input = x;
        if (m.PaddingMode != "zeros")
        {
            string mode = m.PaddingMode switch { "reflect" => "reflect", "replicate" => "edge", "circular" => "wrap", _ => m.PaddingMode };
            var padded = F.Pad(x.Value, [(int)pads[1], (int)pads[3], (int)pads[0], (int)pads[2]], F.ParsePadMode(m.PaddingMode));
            input = c.Op("Pad", p + "/pad", [x.Name, c.B.Ints(p + ".pads", 0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3])], padded, Attr("mode", mode));
            pads = [0, 0, 0, 0];
        }
        var inputs = new List<string> { input.Name, c.B.Initializer(p + ".weight", m.Weight) };
        if (m.Bias != null) inputs.Add(c.B.Initializer(p + ".bias", m.Bias));
        return c.Op("Conv", p, inputs.ToArray(), m.Call(x.Value), Attr("kernel_shape", kh, kw), Attr("strides", HW(m.Stride)),
                    Attr("pads", pads), Attr("dilations", HW(m.Dilation)), Attr("group", (long)m.Groups));
    }

    private static ExportValue ConvTranspose(ExportContext c, ConvTranspose2d m, string p, ExportValue x)
    {
        var inputs = new List<string> { x.Name, c.B.Initializer(p + ".weight", m.Weight) };
        if (m.Bias != null) inputs.Add(c.B.Initializer(p + ".bias", m.Bias));
        return c.Op("ConvTranspose", p, inputs.ToArray(), m.Call(x.Value), Attr("kernel_shape", m.Weight.Shape[2], m.Weight.Shape[3]),
                    Attr("strides", HW(m.Stride)), Attr("pads", m.Padding.H, m.Padding.W, m.Padding.H, m.Padding.W),
                    Attr("output_padding", HW(m.OutputPadding)), Attr("dilations", HW(m.Dilation)), Attr("group", (long)m.Groups));
    }

    private static ExportValue BatchNorm(ExportContext c, BatchNorm2d m, string p, ExportValue x)
    {
        if (m.RunningMean is null || m.RunningVar is null)
            throw new OnnxExportException($"ONNX export: BatchNorm2d '{p}' has no running statistics (trackRunningStats=false); inference BatchNormalization needs them");
        string scale = c.B.Initializer(p + ".weight", m.Weight ?? Tensor.Ones(m.NumFeatures));
        string bias = c.B.Initializer(p + ".bias", m.Bias ?? Tensor.Zeros(m.NumFeatures));
        return c.Op("BatchNormalization", p, [x.Name, scale, bias, c.B.Initializer(p + ".running_mean", m.RunningMean), c.B.Initializer(p + ".running_var", m.RunningVar)],
                    m.Call(x.Value), Attr("epsilon", (float)m.Eps));
    }

    private static ExportValue MaxPool(ExportContext c, MaxPool2d m, string p, ExportValue x) =>
        c.Op("MaxPool", p, [x.Name], m.Call(x.Value), Attr("kernel_shape", HW(m.KernelSize)), Attr("strides", HW(m.Stride)),
             Attr("pads", m.Padding.H, m.Padding.W, m.Padding.H, m.Padding.W), Attr("dilations", HW(m.Dilation)), Attr("ceil_mode", m.CeilMode ? 1L : 0L));

    private static ExportValue AvgPool(ExportContext c, AvgPool2d m, string p, ExportValue x)
    {
        if (m.DivisorOverride != null) throw new OnnxExportException($"ONNX export: AvgPool2d '{p}' with divisorOverride has no ONNX equivalent");
        return c.Op("AveragePool", p, [x.Name], m.Call(x.Value), Attr("kernel_shape", HW(m.KernelSize)), Attr("strides", HW(m.Stride)),
                    Attr("pads", m.Padding.H, m.Padding.W, m.Padding.H, m.Padding.W), Attr("ceil_mode", m.CeilMode ? 1L : 0L),
                    Attr("count_include_pad", m.CountIncludePad ? 1L : 0L));
    }

    private static ExportValue AdaptiveAvgPool(ExportContext c, AdaptiveAvgPool2d m, string p, ExportValue x)
    {
        var y = m.Call(x.Value);
        if (m.OutputSize == new Pair(1, 1)) return c.Op("GlobalAveragePool", p, [x.Name], y);
        int h = x.Value.Shape[^2], w = x.Value.Shape[^1], oh = m.OutputSize.H, ow = m.OutputSize.W;
        if (oh <= 0 || ow <= 0 || h % oh != 0 || w % ow != 0)
            throw new OnnxExportException($"ONNX export: AdaptiveAvgPool2d '{p}' to {m.OutputSize} from {h}x{w} is not an even pooling; only output (1, 1) or divisible sizes export");
        return c.Op("AveragePool", p, [x.Name], y, Attr("kernel_shape", h / oh, w / ow), Attr("strides", h / oh, w / ow));
    }

    private static ExportValue Flatten(ExportContext c, Flatten m, string p, ExportValue x)
    {
        var y = m.Call(x.Value);
        int rank = x.Value.Dim, end = m.EndDim < 0 ? m.EndDim + rank : m.EndDim, start = m.StartDim < 0 ? m.StartDim + rank : m.StartDim;
        if (end == rank - 1) return c.Op("Flatten", p, [x.Name], y, Attr("axis", (long)start));
        return c.Op("Reshape", p, [x.Name, c.B.Ints(p + ".shape", y.Shape.Select(d => (long)d).ToArray())], y);
    }

    private static ExportValue Linear(ExportContext c, Linear m, string p, ExportValue x)
    {
        var y = m.Call(x.Value);
        string w = c.B.Initializer(p + ".weight", m.Weight);
        string? b = m.Bias is null ? null : c.B.Initializer(p + ".bias", m.Bias);
        if (x.Value.Dim == 2)
            return c.Op("Gemm", p, b is null ? [x.Name, w] : [x.Name, w, b], y, Attr("transB", 1L));
        var wt = c.B.Node("Transpose", p, [w], Attr("perm", 1L, 0L));
        var mm = c.Op("MatMul", p, [x.Name, wt], b is null ? y : x.Value.Matmul(m.Weight.T()));
        return b is null ? mm : c.Op("Add", p, [mm.Name, b], y);
    }

    private static ExportValue Upsample(ExportContext c, Upsample m, string p, ExportValue x)
    {
        var y = m.Call(x.Value);
        var attrs = m.Mode switch
        {
            "nearest" => new[] { Attr("mode", "nearest"), Attr("coordinate_transformation_mode", "asymmetric"), Attr("nearest_mode", "floor") },
            "nearest-exact" => [Attr("mode", "nearest"), Attr("coordinate_transformation_mode", "half_pixel"), Attr("nearest_mode", "round_prefer_ceil")],
            "bilinear" => [Attr("mode", "linear"), Attr("coordinate_transformation_mode", m.AlignCorners == true ? "align_corners" : "half_pixel")],
            _ => throw new OnnxExportException($"ONNX export: Upsample '{p}' mode '{m.Mode}' is not supported"),
        };
        return c.Op("Resize", p, ResizeInputs(c, p, x, m.ScaleFactor, y), y, attrs);
    }

    /// <summary>Resize inputs: [X, "", scales] when a scale factor is given, else [X, "", "", sizes] from the computed output.</summary>
    public static string[] ResizeInputs(ExportContext c, string p, ExportValue x, ScalePair? scale, Tensor y) => scale is ScalePair s
        ? [x.Name, "", c.B.Floats(p + ".scales", false, 1f, 1f, (float)s.H, (float)s.W)]
        : [x.Name, "", "", c.B.Ints(p + ".sizes", y.Shape.Select(d => (long)d).ToArray())];

    private static ExportValue SE(ExportContext c, SqueezeExcitation m, string p, ExportValue x)
    {
        var s = c.Op("GlobalAveragePool", p, [x.Name], x.Value.Mean([2, 3], keepDim: true));
        s = c.Relu(p, c.Export(m.Squeeze, ExportContext.Sub(p, "squeeze"), s));
        s = c.Export(m.Excite, ExportContext.Sub(p, "excite"), s);
        s = c.Op("Sigmoid", p, [s.Name], F.Sigmoid(s.Value));
        return c.Op("Mul", p, [x.Name, s.Name], m.Call(x.Value));
    }
}
