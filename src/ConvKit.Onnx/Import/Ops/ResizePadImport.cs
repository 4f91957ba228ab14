namespace ConvKit.Onnx;

/// <summary>Resize (nearest / linear, by scales or sizes) on <see cref="F.Interpolate"/>, and Pad (constant / reflect / edge) on <see cref="F.Pad"/>.</summary>
internal static class ResizePadImport
{
    public static OpKernel Resize(NodeContext c)
    {
        c.Arity(2, 4);
        string mode = c.Str("mode", "nearest");
        string coord = c.Str("coordinate_transformation_mode", c.Opset < 11 ? "asymmetric" : "half_pixel");
        string nearest = c.Str("nearest_mode", c.Opset < 11 ? "floor" : "round_prefer_floor");
        c.Float("cubic_coeff_a", -0.75f);
        c.RequireDefault("exclude_outside", 0);
        c.RequireDefault("antialias", 0);
        c.Float("extrapolation_value", 0f); // only used by tf_crop_and_resize
        if (c.Has("axes")) throw c.Unsupported("axes", "Resize over a subset of axes is not supported");
        string torchMode = (mode, coord, nearest) switch
        {
            ("nearest", "asymmetric", "floor") => "nearest",
            ("nearest", "half_pixel", "round_prefer_ceil") => "nearest-exact",
            ("linear", "half_pixel" or "pytorch_half_pixel", _) => "bilinear",
            ("linear", "align_corners", _) => "bilinear-ac",
            ("nearest" or "linear", _, _) => throw c.Unsupported("coordinate_transformation_mode",
                $"mode={mode} with coordinate_transformation_mode={coord} and nearest_mode={nearest} is not supported " +
                "(expected nearest/asymmetric/floor, nearest/half_pixel/round_prefer_ceil, linear/half_pixel, linear/pytorch_half_pixel or linear/align_corners)"),
            _ => throw c.Unsupported("mode", $"mode={mode} is not supported (expected nearest or linear)"),
        };
        int scalesAt = c.Opset < 11 ? 1 : 2;
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            OpHelpers.Require4D(x, c);
            var scales = scalesAt < inputs.Length && inputs[scalesAt] is { Count: > 0 } s ? s.AsFloat().ToArray() : null;
            var sizes = c.Opset >= 11 && inputs.Length > 3 && inputs[3] is { Count: > 0 } z ? inputs.IntsAt(3, c) : null;
            if ((scales is null) == (sizes is null))
                throw new OnnxEvaluationException($"ONNX Resize node '{c.Name}': exactly one of scales and sizes must be given");
            string m = torchMode == "bilinear-ac" ? "bilinear" : torchMode;
            bool? ac = torchMode.StartsWith("bilinear") ? torchMode == "bilinear-ac" : null;
            if (scales != null)
            {
                if (scales.Length != 4 || scales[0] != 1f || scales[1] != 1f || scales[2] <= 0 || scales[3] <= 0)
                    throw c.Unsupported("scales", $"expected scales [1, 1, sH, sW] with positive sH, sW, got [{string.Join(", ", scales)}]");
                return OpHelpers.One(F.Interpolate(x, scaleFactor: ((double)scales[2], (double)scales[3]), mode: m, alignCorners: ac));
            }
            if (sizes!.Length != 4 || sizes[0] != x.Shape[0] || sizes[1] != x.Shape[1] || sizes[2] <= 0 || sizes[3] <= 0 || sizes[2] > 1 << 20 || sizes[3] > 1 << 20)
                throw c.Unsupported("sizes", $"expected sizes [N, C, H, W] keeping N and C of [{string.Join(", ", x.Shape)}], got [{string.Join(", ", sizes)}]");
            return OpHelpers.One(F.Interpolate(x, size: ((int)sizes[2], (int)sizes[3]), mode: m, alignCorners: ac));
        };
    }

    public static OpKernel Pad(NodeContext c)
    {
        c.Arity(1, 3);
        string mode = c.Str("mode", "constant");
        var padMode = mode switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Replicate,
            "wrap" => PadMode.Circular,
            _ => throw c.Unsupported("mode", $"expected constant, reflect, edge or wrap, got '{mode}'"),
        };
        var attrPads = c.Ints("pads"); // opset < 11
        float attrValue = c.Float("value", 0f);
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            var pads = attrPads ?? inputs.IntsAt(1, c);
            float value = c.Opset >= 11 && inputs.Length > 2 && inputs[2] is { Count: 1 } v ? v.AsFloat().ToArray()[0] : attrValue;
            int r = x.Dim;
            if (pads.Length != 2 * r) throw new OnnxEvaluationException($"ONNX Pad node '{c.Name}': expected {2 * r} pads for rank {r}, got [{string.Join(", ", pads)}]");
            if (pads.Any(p => Math.Abs(p) > 1 << 20)) throw new OnnxEvaluationException($"ONNX Pad node '{c.Name}': pads [{string.Join(", ", pads)}] are out of range");
            int first = Enumerable.Range(0, r).FirstOrDefault(d => pads[d] != 0 || pads[d + r] != 0, r);
            var torchPad = new List<int>();
            for (int d = r - 1; d >= Math.Min(first, r - 1); d--) { torchPad.Add((int)pads[d]); torchPad.Add((int)pads[d + r]); }
            if (padMode != PadMode.Constant && torchPad.Count > 4)
                throw c.Unsupported("mode", $"{mode} padding of more than the last two dims is not supported, got pads [{string.Join(", ", pads)}]");
            return OpHelpers.One(F.Pad(x, torchPad.ToArray(), padMode, padMode == PadMode.Constant ? value : 0f));
        };
    }
}
