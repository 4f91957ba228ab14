namespace ConvKit.Onnx;

/// <summary>Conv and ConvTranspose (2-D, NCHW) on <see cref="F.Conv2d"/> and <see cref="F.ConvTranspose2d"/>.</summary>
internal static class ConvImport
{
    public static OpKernel Conv(NodeContext c)
    {
        c.Arity(2, 3);
        var kernel = OpHelpers.Spatial(c, "kernel_shape");
        Pair stride = OpHelpers.Spatial(c, "strides") ?? 1, dil = OpHelpers.Spatial(c, "dilations") ?? 1;
        int groups = c.SmallInt("group", 1);
        var autoPad = OpHelpers.AutoPad(c);
        var pads = OpHelpers.Pads(c);
        return inputs =>
        {
            var (x, w, b) = Operands(inputs, c, kernel);
            var p = OpHelpers.ResolvePads(autoPad, pads, x.Shape[2], x.Shape[3], (w.Shape[2], w.Shape[3]), stride, dil);
            if (!OpHelpers.Symmetric(p)) { x = OpHelpers.PadExplicit(x, p, 0f); p = [0, 0, 0, 0]; }
            return OpHelpers.One(F.Conv2d(x, w, b, stride, (p[0], p[1]), dil, groups));
        };
    }

    public static OpKernel ConvTranspose(NodeContext c)
    {
        c.Arity(2, 3);
        var kernel = OpHelpers.Spatial(c, "kernel_shape");
        Pair stride = OpHelpers.Spatial(c, "strides") ?? 1, dil = OpHelpers.Spatial(c, "dilations") ?? 1;
        Pair outPad = OpHelpers.Spatial(c, "output_padding") ?? 0;
        var outShape = c.SmallInts("output_shape");
        int groups = c.SmallInt("group", 1);
        var autoPad = OpHelpers.AutoPad(c);
        var pads = OpHelpers.Pads(c);
        if (outShape != null && outShape.Length != 2 && outShape.Length != 4)
            throw c.Unsupported("output_shape", $"expected 2 spatial sizes, got [{string.Join(", ", outShape)}]");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            throw c.Unsupported("auto_pad", $"auto_pad={autoPad} is not supported for ConvTranspose; export with explicit pads");
        return inputs =>
        {
            var (x, w, b) = Operands(inputs, c, kernel);
            int kh = w.Shape[2], kw = w.Shape[3];
            var p = autoPad == "VALID" ? [0, 0, 0, 0] : pads;
            Pair op = outPad;
            if (outShape != null)
            {
                // Spec: total_padding = stride·(in − 1) + output_padding + ((k − 1)·dilation + 1) − output_shape, split begin/end.
                int oh = outShape[^2], ow = outShape[^1];
                int th = stride.H * (x.Shape[2] - 1) + outPad.H + (kh - 1) * dil.H + 1 - oh;
                int tw = stride.W * (x.Shape[3] - 1) + outPad.W + (kw - 1) * dil.W + 1 - ow;
                if (th < 0 || tw < 0)
                    throw new OnnxEvaluationException($"ONNX ConvTranspose node '{c.Name}': output_shape ({oh}, {ow}) is larger than the full output");
                p = [th / 2, tw / 2, th - th / 2, tw - tw / 2];
            }
            // An asymmetric pad crops one more row/column at the end: pad by the begin amounts and crop the rest.
            var y = F.ConvTranspose2d(x, w, b, stride, (p[0], p[1]), op, groups, dil);
            int extraH = p[2] - p[0], extraW = p[3] - p[1];
            if (extraH != 0 || extraW != 0)
            {
                if (extraH < 0 || extraW < 0)
                    throw c.Unsupported("pads", $"ConvTranspose pads with begin > end are not supported, got [{string.Join(", ", p)}]");
                y = y.Narrow(2, 0, y.Shape[2] - extraH).Narrow(3, 0, y.Shape[3] - extraW);
            }
            return OpHelpers.One(y);
        };
    }

    /// <summary>Input [N, C, H, W], weight [·, ·, kH, kW] (checked against kernel_shape when given) and the optional bias.</summary>
    private static (Tensor X, Tensor W, Tensor? B) Operands(OnnxValue?[] inputs, NodeContext c, Pair? kernel)
    {
        var x = inputs.FloatAt(0, c);
        var w = inputs.FloatAt(1, c);
        OpHelpers.Require4D(x, c);
        if (w.Dim != 4 || (kernel is Pair k && (k.H != w.Shape[2] || k.W != w.Shape[3])))
            throw new OnnxEvaluationException($"ONNX {c.Op} node '{c.Name}': weight [{string.Join(", ", w.Shape)}] does not match kernel_shape {kernel}");
        return (x, w, inputs.OptionalFloat(2));
    }
}
