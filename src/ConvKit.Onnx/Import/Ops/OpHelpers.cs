namespace ConvKit.Onnx;

/// <summary>Input access and spatial-attribute parsing shared by the op families.</summary>
internal static class OpHelpers
{
    public static OnnxValue Required(this OnnxValue?[] inputs, int i, NodeContext c) =>
        i < inputs.Length && inputs[i] is { } v ? v
            : throw new OnnxFormatException($"ONNX {c.Op} node '{c.Name}': required input {i} is missing");

    public static Tensor FloatAt(this OnnxValue?[] inputs, int i, NodeContext c) => inputs.Required(i, c).AsFloat();

    public static Tensor? OptionalFloat(this OnnxValue?[] inputs, int i) => i < inputs.Length ? inputs[i]?.AsFloat() : null;

    public static long[] IntsAt(this OnnxValue?[] inputs, int i, NodeContext c) =>
        inputs.Required(i, c).AsInts($"ONNX {c.Op} node '{c.Name}' input {i}");

    public static OnnxValue[] One(Tensor t) => [OnnxValue.Of(t)];

    /// <summary>A 2-D spatial op's (H, W) attribute: kernel_shape, strides, dilations.</summary>
    public static Pair? Spatial(NodeContext c, string name)
    {
        var v = c.SmallInts(name);
        if (v is null) return null;
        if (v.Length != 2) throw c.Unsupported(name, $"only 2-D (NCHW) operators are supported; expected 2 values, got [{string.Join(", ", v)}]");
        return (v[0], v[1]);
    }

    /// <summary>pads [top, left, bottom, right] (ONNX order: all begins, then all ends), defaulting to zeros.</summary>
    public static int[] Pads(NodeContext c)
    {
        var v = c.SmallInts("pads") ?? [0, 0, 0, 0];
        if (v.Length != 4) throw c.Unsupported("pads", $"only 2-D operators are supported; expected 4 values, got [{string.Join(", ", v)}]");
        if (v.Any(p => p < 0)) throw c.Unsupported("pads", $"negative pads are not supported, got [{string.Join(", ", v)}]");
        return v;
    }

    /// <summary>
    /// Resolves auto_pad into explicit pads [top, left, bottom, right] for an input of size (h, w), as the
    /// ONNX spec: SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
    /// </summary>
    public static int[] ResolvePads(string autoPad, int[] pads, int h, int w, Pair k, Pair s, Pair d)
    {
        if (autoPad is "NOTSET") return pads;
        if (autoPad is "VALID") return [0, 0, 0, 0];
        int th = SameTotal(h, k.H, s.H, d.H), tw = SameTotal(w, k.W, s.W, d.W);
        return autoPad == "SAME_UPPER" ? [th / 2, tw / 2, th - th / 2, tw - tw / 2] : [th - th / 2, tw - tw / 2, th / 2, tw / 2];
    }

    private static int SameTotal(int size, int k, int s, int d)
    {
        int outSize = (size + s - 1) / s;
        return Math.Max(0, (outSize - 1) * s + (k - 1) * d + 1 - size);
    }

    public static string AutoPad(NodeContext c)
    {
        var a = c.Str("auto_pad", "NOTSET");
        if (a is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw c.Unsupported("auto_pad", $"expected NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '{a}'");
        return a;
    }

    /// <summary>True when [top, left, bottom, right] is symmetric; then the op's own padding argument applies.</summary>
    public static bool Symmetric(int[] p) => p[0] == p[2] && p[1] == p[3];

    /// <summary>Explicit F.Pad of [top, left, bottom, right] pads with a fill value.</summary>
    public static Tensor PadExplicit(Tensor x, int[] p, float value) => F.Pad(x, [p[1], p[3], p[0], p[2]], PadMode.Constant, value);

    public static void Require4D(Tensor x, NodeContext c)
    {
        if (x.Dim != 4) throw new OnnxEvaluationException($"ONNX {c.Op} node '{c.Name}': expected a 4-D input [N, C, H, W], got [{string.Join(", ", x.Shape)}]");
    }
}
