using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Kernels.Reference;

/// <summary>
/// Per-channel loops over [N, C, L] data for batch normalization: vectorised rows (TensorPrimitives),
/// double accumulation across rows, channels in parallel.
/// </summary>
internal static class ReferenceNorm
{
    /// <summary>Per-channel mean and biased variance (two passes: mean, then Σ(x − mean)²).</summary>
    public static unsafe (double[] Mean, double[] Var) ChannelStats(ReadOnlySpan<float> x, int n, int c, int l)
    {
        var mean = new double[c];
        var var = new double[c];
        double count = (double)n * l;
        fixed (float* px = x)
        {
            nint xs = (nint)px;
            Parallelism.For(c, ch =>
            {
                var rented = ArrayPool<float>.Shared.Rent(l);
                var tmp = rented.AsSpan(0, l);
                double s = 0;
                for (int i = 0; i < n; i++) s += TensorPrimitives.Sum(Row(xs, i, ch, c, l));
                double m = s / count, ss = 0;
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Subtract(Row(xs, i, ch, c, l), (float)m, tmp);
                    ss += TensorPrimitives.SumOfSquares<float>(tmp);
                }
                ArrayPool<float>.Shared.Return(rented);
                mean[ch] = m;
                var[ch] = ss / count;
            });
        }
        return (mean, var);
    }

    private static unsafe ReadOnlySpan<float> Row(nint data, int i, int ch, int c, int l) =>
        new((float*)data + ((long)i * c + ch) * l, l);

    /// <summary>y = x·scale[c] + shift[c].</summary>
    public static unsafe void Affine(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, int n, int c, int l)
    {
        var sc = scale.ToArray();
        var sh = shift.ToArray();
        fixed (float* px = x, py = y)
        {
            nint xs = (nint)px, ys = (nint)py;
            Parallelism.For(n, i =>
            {
                for (int ch = 0; ch < c; ch++)
                {
                    var dst = new Span<float>((float*)ys + ((long)i * c + ch) * l, l);
                    ScaleShift(Row(xs, i, ch, c, l), sc[ch], sh[ch], dst);
                }
            });
        }
    }

    /// <summary>Per-channel Σ dy and Σ dy·x̂ where x̂ = (x − mean)·invstd.</summary>
    public static unsafe (double[] SumDy, double[] SumDyXhat) GradSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, double[] mean, double[] invstd, int n, int c, int l)
    {
        var sdy = new double[c];
        var sdx = new double[c];
        fixed (float* px = x, pg = dy)
        {
            nint xs = (nint)px, gs = (nint)pg;
            Parallelism.For(c, ch =>
            {
                var rented = ArrayPool<float>.Shared.Rent(l);
                var tmp = rented.AsSpan(0, l);
                double a = 0, b = 0;
                for (int i = 0; i < n; i++)
                {
                    var g = Row(gs, i, ch, c, l);
                    TensorPrimitives.Subtract(Row(xs, i, ch, c, l), (float)mean[ch], tmp);
                    a += TensorPrimitives.Sum(g);
                    b += TensorPrimitives.Dot(g, tmp);
                }
                ArrayPool<float>.Shared.Return(rented);
                sdy[ch] = a;
                sdx[ch] = b * invstd[ch];
            });
        }
        return (sdy, sdx);
    }

    /// <summary>dst = x·a + b in one pass (TensorPrimitives has no scalar-scalar multiply-add).</summary>
    private static void ScaleShift(ReadOnlySpan<float> x, float a, float b, Span<float> dst)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            for (; i + 8 <= x.Length; i += 8)
                Vector256.StoreUnsafe(
                    Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(x), (nuint)i) * va + vb,
                    ref MemoryMarshal.GetReference(dst), (nuint)i);
        }
        for (; i < x.Length; i++) dst[i] = x[i] * a + b;
    }
}
