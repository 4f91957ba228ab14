namespace ConvKit.Onnx;

/// <summary>
/// A value flowing through an imported graph: a float <see cref="Tensor"/> (differentiable) or an integer
/// tensor (int64/int32/bool data, used for shapes, indices and pads, evaluated eagerly and never differentiated).
/// </summary>
internal sealed class OnnxValue
{
    public Tensor? Float { get; }
    public long[]? Ints { get; }
    public int[] Shape { get; }

    private OnnxValue(Tensor? f, long[]? ints, int[] shape) { Float = f; Ints = ints; Shape = shape; }

    public static OnnxValue Of(Tensor t) => new(t, null, t.Shape.ToArray());
    public static OnnxValue Of(long[] data, int[] shape) => new(null, data, shape);
    public static OnnxValue Vector(long[] data) => new(null, data, [data.Length]);

    public bool IsInt => Ints != null;
    public int Rank => Shape.Length;
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The value as a float tensor (integers are converted, as ONNX Cast would).</summary>
    public Tensor AsFloat() => Float ?? Tensor.FromArray(Ints!.Select(v => (float)v).ToArray(), Shape);

    /// <summary>The value as integers; float values must be whole numbers (e.g. a float scale vector is rejected elsewhere).</summary>
    public long[] AsInts(string what)
    {
        if (Ints != null) return Ints;
        var a = Float!.ToArray();
        var r = new long[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            if (!float.IsFinite(a[i]) || a[i] != MathF.Floor(a[i]))
                throw new OnnxEvaluationException($"{what}: expected integer values, got {a[i]}");
            r[i] = (long)a[i];
        }
        return r;
    }

    public override string ToString() => $"{(IsInt ? "int64" : "float")}[{string.Join(", ", Shape)}]";
}
