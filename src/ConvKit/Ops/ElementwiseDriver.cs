using System.Numerics.Tensors;

namespace ConvKit;

/// <summary>A binary element-wise operator: a scalar form and the three span forms the driver needs.</summary>
internal interface IBinaryOp
{
    static abstract float Apply(float a, float b);
    static abstract void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d);
    static abstract void Apply(ReadOnlySpan<float> a, float b, Span<float> d);
    static abstract void Apply(float a, ReadOnlySpan<float> b, Span<float> d);
}

/// <summary>A unary element-wise operator over spans.</summary>
internal interface IUnaryOp
{
    static abstract void Apply(ReadOnlySpan<float> x, Span<float> d);
}

internal static class Elementwise
{
    /// <summary>Broadcasting binary op: out = op(a, b) with out of the broadcast shape.</summary>
    public static Tensor Binary<TOp>(Tensor a, Tensor b, string name) where TOp : IBinaryOp
    {
        var shape = ShapeUtil.Broadcast(a.Sizes, b.Sizes, name);
        var result = Tensor.Empty(shape);
        if (a.IsContiguous && b.IsContiguous && ShapeUtil.SameShape(a.Sizes, b.Sizes))
        {
            TOp.Apply(a.Span, b.Span, result.Span);
            return result;
        }
        float[] A = a.Storage, B = b.Storage, C = result.Storage;
        StridedLoop.Rows(shape, StridedLoop.BroadcastStrides(a, shape), a.Offset, StridedLoop.BroadcastStrides(b, shape), b.Offset,
            ShapeUtil.ContiguousStrides(shape), 0, (oa, ob, oc, n, sa, sb, _) =>
            {
                var d = C.AsSpan(oc, n);
                if (sa == 1 && sb == 1) TOp.Apply(A.AsSpan(oa, n), B.AsSpan(ob, n), d);
                else if (sa == 1 && sb == 0) TOp.Apply(A.AsSpan(oa, n), B[ob], d);
                else if (sa == 0 && sb == 1) TOp.Apply(A[oa], B.AsSpan(ob, n), d);
                else for (int i = 0; i < n; i++) d[i] = TOp.Apply(A[oa + i * sa], B[ob + i * sb]);
            });
        return result;
    }

    public static Tensor Unary<TOp>(Tensor x) where TOp : IUnaryOp
    {
        var src = x.Contiguous();
        var result = Tensor.Empty(x.Sizes);
        TOp.Apply(src.Span, result.Span);
        return result;
    }

    /// <summary>Element-wise map through a scalar function, for ops TensorPrimitives lacks.</summary>
    public static Tensor Map(Tensor x, Func<float, float> f)
    {
        var src = x.Contiguous().Span;
        var result = Tensor.Empty(x.Sizes);
        var d = result.Span;
        for (int i = 0; i < d.Length; i++) d[i] = f(src[i]);
        return result;
    }
}

internal struct AddOp : IBinaryOp
{
    public static float Apply(float a, float b) => a + b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Add(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Add(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Add(b, a, d);
}

internal struct SubOp : IBinaryOp
{
    public static float Apply(float a, float b) => a - b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
}

internal struct MulOp : IBinaryOp
{
    public static float Apply(float a, float b) => a * b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Multiply(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Multiply(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Multiply(b, a, d);
}

internal struct DivOp : IBinaryOp
{
    public static float Apply(float a, float b) => a / b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
}

internal struct PowOp : IBinaryOp
{
    public static float Apply(float a, float b) => MathF.Pow(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(a[i], b[i]); }
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d)
    {
        if (b == 2f) TensorPrimitives.Multiply(a, a, d);
        else if (b == 1f) a.CopyTo(d);
        else for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(a[i], b);
    }
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(a, b[i]); }
}

/// <summary>Maximum that propagates NaN, as <c>torch.maximum</c>.</summary>
internal struct MaxOp : IBinaryOp
{
    public static float Apply(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Max(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Max(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Max(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Max(b, a, d);
}

internal struct MinOp : IBinaryOp
{
    public static float Apply(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Min(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Min(a, b, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Min(a, b, d);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Min(b, a, d);
}

/// <summary>Comparison producing a 0/1 float mask; TCmp decides the relation.</summary>
internal struct CompareOp<TCmp> : IBinaryOp where TCmp : ICompare
{
    public static float Apply(float a, float b) => TCmp.Test(a, b) ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = Apply(a[i], b[i]); }
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = Apply(a[i], b); }
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = Apply(a, b[i]); }
}

internal interface ICompare { static abstract bool Test(float a, float b); }
internal struct Gt : ICompare { public static bool Test(float a, float b) => a > b; }
internal struct Ge : ICompare { public static bool Test(float a, float b) => a >= b; }
internal struct Lt : ICompare { public static bool Test(float a, float b) => a < b; }
internal struct Le : ICompare { public static bool Test(float a, float b) => a <= b; }
internal struct Eq : ICompare { public static bool Test(float a, float b) => a == b; }

internal struct ExpOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Exp(x, d); }
internal struct LogOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Log(x, d); }
internal struct SqrtOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Sqrt(x, d); }
internal struct AbsOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Abs(x, d); }
internal struct NegOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Negate(x, d); }
internal struct SigmoidOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Sigmoid(x, d); }
internal struct TanhOp : IUnaryOp { public static void Apply(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Tanh(x, d); }
internal struct SignOp : IUnaryOp
{
    public static void Apply(ReadOnlySpan<float> x, Span<float> d)
    {
        for (int i = 0; i < d.Length; i++) d[i] = x[i] > 0 ? 1f : x[i] < 0 ? -1f : x[i] == 0 ? 0f : float.NaN;
    }
}
