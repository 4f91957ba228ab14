using System.Runtime.InteropServices;
using System.Numerics;
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
            float[] sa = a.Storage, sb = b.Storage, sr = result.Storage;
            int ao = a.Offset, bo = b.Offset, ro = result.Offset;
            Parallelism.Ranges(result.Numel, (s, n) => TOp.Apply(sa.AsSpan(ao + s, n), sb.AsSpan(bo + s, n), sr.AsSpan(ro + s, n)));
            return result;
        }
        float[] A = a.Storage, B = b.Storage, C = result.Storage;
        StridedLoop.ParallelRows(shape, StridedLoop.BroadcastStrides(a, shape), a.Offset, StridedLoop.BroadcastStrides(b, shape), b.Offset,
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
        float[] ss = src.Storage, sr = result.Storage;
        int so = src.Offset, ro = result.Offset;
        Parallelism.Ranges(result.Numel, (s, n) => TOp.Apply(ss.AsSpan(so + s, n), sr.AsSpan(ro + s, n)));
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

/// <summary>Comparison producing a 0/1 float mask; TCmp decides the relation. Vectorised with Vector&lt;float&gt; masks.</summary>
internal struct CompareOp<TCmp> : IBinaryOp where TCmp : ICompare
{
    public static float Apply(float a, float b) => TCmp.Test(a, b) ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => Select<TCmp>(a, b, Ones, d);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> d) => SelectScalar<TCmp>(a, b, Ones, d, scalarFirst: false);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> d) => SelectScalar<TCmp>(b, a, Ones, d, scalarFirst: true);

    private static ReadOnlySpan<float> Ones => default;

    /// <summary>d = cmp(a, b) ? pass : 0, where an empty <paramref name="pass"/> means 1.</summary>
    internal static void Select<TC>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> pass, Span<float> d) where TC : ICompare
    {
        ref float ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b);
        ref float rp = ref MemoryMarshal.GetReference(pass), rd = ref MemoryMarshal.GetReference(d);
        bool ones = pass.IsEmpty;
        nuint i = 0, n = (nuint)d.Length, w = (nuint)Vector<float>.Count;
        for (; i + w <= n; i += w)
        {
            var m = TC.Mask(Vector.LoadUnsafe(ref ra, i), Vector.LoadUnsafe(ref rb, i));
            Vector.ConditionalSelect(m, ones ? Vector<float>.One : Vector.LoadUnsafe(ref rp, i), Vector<float>.Zero).StoreUnsafe(ref rd, i);
        }
        for (int k = (int)i; k < d.Length; k++) d[k] = TC.Test(a[k], b[k]) ? (ones ? 1f : pass[k]) : 0f;
    }

    internal static void SelectScalar<TC>(ReadOnlySpan<float> a, float b, ReadOnlySpan<float> pass, Span<float> d, bool scalarFirst) where TC : ICompare
    {
        ref float ra = ref MemoryMarshal.GetReference(a), rp = ref MemoryMarshal.GetReference(pass), rd = ref MemoryMarshal.GetReference(d);
        bool ones = pass.IsEmpty;
        var vb = new Vector<float>(b);
        nuint i = 0, n = (nuint)d.Length, w = (nuint)Vector<float>.Count;
        for (; i + w <= n; i += w)
        {
            var va = Vector.LoadUnsafe(ref ra, i);
            var m = scalarFirst ? TC.Mask(vb, va) : TC.Mask(va, vb);
            Vector.ConditionalSelect(m, ones ? Vector<float>.One : Vector.LoadUnsafe(ref rp, i), Vector<float>.Zero).StoreUnsafe(ref rd, i);
        }
        for (int k = (int)i; k < d.Length; k++) d[k] = (scalarFirst ? TC.Test(b, a[k]) : TC.Test(a[k], b)) ? (ones ? 1f : pass[k]) : 0f;
    }
}

internal interface ICompare
{
    static abstract bool Test(float a, float b);
    static abstract Vector<float> Mask(Vector<float> a, Vector<float> b);
}
internal struct Gt : ICompare { public static bool Test(float a, float b) => a > b; public static Vector<float> Mask(Vector<float> a, Vector<float> b) => Vector.GreaterThan<float>(a, b); }
internal struct Ge : ICompare { public static bool Test(float a, float b) => a >= b; public static Vector<float> Mask(Vector<float> a, Vector<float> b) => Vector.GreaterThanOrEqual<float>(a, b); }
internal struct Lt : ICompare { public static bool Test(float a, float b) => a < b; public static Vector<float> Mask(Vector<float> a, Vector<float> b) => Vector.LessThan<float>(a, b); }
internal struct Le : ICompare { public static bool Test(float a, float b) => a <= b; public static Vector<float> Mask(Vector<float> a, Vector<float> b) => Vector.LessThanOrEqual<float>(a, b); }
internal struct Eq : ICompare { public static bool Test(float a, float b) => a == b; public static Vector<float> Mask(Vector<float> a, Vector<float> b) => Vector.Equals<float>(a, b); }

/// <summary>g where y &gt; 0, else 0: the fused backward of ReLU (one pass, no mask tensor).</summary>
internal struct PassIfPositiveOp : IBinaryOp
{
    public static float Apply(float g, float y) => y > 0 ? g : 0f;
    public static void Apply(ReadOnlySpan<float> g, ReadOnlySpan<float> y, Span<float> d) => CompareOp<Gt>.SelectScalar<Gt>(y, 0f, g, d, scalarFirst: false);
    public static void Apply(ReadOnlySpan<float> g, float y, Span<float> d) { if (y > 0) g.CopyTo(d); else d.Clear(); }
    public static void Apply(float g, ReadOnlySpan<float> y, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = y[i] > 0 ? g : 0f; }
}

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
