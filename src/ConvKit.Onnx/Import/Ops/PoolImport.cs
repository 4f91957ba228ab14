namespace ConvKit.Onnx;

/// <summary>MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool (2-D, NCHW) on ConvKit's pooling ops.</summary>
internal static class PoolImport
{
    private sealed record PoolAttrs(Pair Kernel, Pair Stride, Pair Dilation, int[] Pads, string AutoPad, bool CeilMode);

    private static PoolAttrs Attrs(NodeContext c)
    {
        var k = OpHelpers.Spatial(c, "kernel_shape") ?? throw new OnnxFormatException($"ONNX {c.Op} node '{c.Name}': kernel_shape is required");
        return new PoolAttrs(k, OpHelpers.Spatial(c, "strides") ?? 1, OpHelpers.Spatial(c, "dilations") ?? 1, OpHelpers.Pads(c),
                             OpHelpers.AutoPad(c), c.Int("ceil_mode", 0) != 0);
    }

    /// <summary>Pads the input explicitly when PyTorch's pooling cannot express the pads (asymmetric, or more than half the kernel).</summary>
    private static (Tensor X, Pair Pad) Prepare(Tensor x, PoolAttrs a, float fill, NodeContext c, bool fillAllowed)
    {
        OpHelpers.Require4D(x, c);
        var p = OpHelpers.ResolvePads(a.AutoPad, a.Pads, x.Shape[2], x.Shape[3], a.Kernel, a.Stride, a.Dilation);
        if (OpHelpers.Symmetric(p) && p[0] <= a.Kernel.H / 2 && p[1] <= a.Kernel.W / 2) return (x, (p[0], p[1]));
        if (!fillAllowed)
            throw c.Unsupported("pads", $"asymmetric pads [{string.Join(", ", p)}] need count_include_pad=1 for AveragePool");
        return (OpHelpers.PadExplicit(x, p, fill), 0);
    }

    public static OpKernel MaxPool(NodeContext c)
    {
        c.Arity(1, 1);
        var a = Attrs(c);
        c.RequireDefault("storage_order", 0);
        return inputs =>
        {
            var (x, pad) = Prepare(inputs.FloatAt(0, c), a, float.NegativeInfinity, c, true);
            return OpHelpers.One(F.MaxPool2d(x, a.Kernel, a.Stride, pad, a.Dilation, a.CeilMode));
        };
    }

    public static OpKernel AveragePool(NodeContext c)
    {
        c.Arity(1, 1);
        var a = Attrs(c);
        if (a.Dilation != new Pair(1, 1)) throw c.Unsupported("dilations", $"AveragePool dilations must be 1, got {a.Dilation}");
        bool includePad = c.Int("count_include_pad", 0) != 0;
        return inputs =>
        {
            var (x, pad) = Prepare(inputs.FloatAt(0, c), a, 0f, c, includePad);
            return OpHelpers.One(F.AvgPool2d(x, a.Kernel, a.Stride, pad, a.CeilMode, includePad));
        };
    }

    public static OpKernel GlobalAveragePool(NodeContext c)
    {
        c.Arity(1, 1);
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            if (x.Dim < 3) throw new OnnxEvaluationException($"ONNX GlobalAveragePool node '{c.Name}': expected [N, C, H, W], got [{string.Join(", ", x.Shape)}]");
            return OpHelpers.One(x.Mean(Enumerable.Range(2, x.Dim - 2).ToArray(), keepDim: true));
        };
    }

    public static OpKernel GlobalMaxPool(NodeContext c)
    {
        c.Arity(1, 1);
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            OpHelpers.Require4D(x, c);
            return OpHelpers.One(F.AdaptiveMaxPool2d(x, 1));
        };
    }
}
