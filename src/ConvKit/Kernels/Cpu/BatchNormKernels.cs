using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The batch-norm kernels over [N, C, L] data: one pass per phase (statistics, affine with the fused ReLU, gradient
/// sums, input gradient), Vector256 rows summed in float chunks and across rows in double, rows or channels in
/// parallel. There is no separate reference kernel: tests check these against double-precision sums and PyTorch.
/// </summary>
internal static class BatchNormKernels
{
    /// <summary>
    /// Per-channel mean and biased variance in one pass over x: each block of a row (≤ <see cref="StatsBlock"/> floats, in L1)
    /// gets its own mean and Σ(x − chunk mean)², two passes over the chunk, and chunks merge in double by Chan et al.'s
    /// pairwise update (M2 += M2_b + δ²·n_a·n_b / (n_a + n_b)), which stays exact to rounding whatever the data's offset,
    /// unlike Σx² − (Σx)²/n. Two passes over the whole of x had read it twice from memory.
    /// </summary>
    public static unsafe (double[] Mean, double[] Var) ChannelStats(ReadOnlySpan<float> x, int n, int c, int l)
    {
        var mean = new double[c];
        var var = new double[c];
        fixed (float* px = x)
        {
            nint xs = (nint)px;
            Parallelism.For(c, ch =>
            {
                double count = 0, m = 0, m2 = 0;
                for (long row = ch; row < (long)n * c; row += c)
                {
                    var r = Row(xs, row, l);
                    for (int start = 0; start < l; start += StatsBlock)
                    {
                        var block = r.Slice(start, Math.Min(StatsBlock, l - start));
                        double nb = block.Length;
                        float cm = (float)(RowSums<No, No>(block, default, default, 0f, 0f).Sum / nb);
                        var (shift, sq) = RowSums<Yes, No>(block, block, default, cm, cm);
                        // The block's exact mean is cm + Σ(x − cm)/nb; its M2 about that mean is Σ(x − cm)² − (Σ(x − cm))²/nb.
                        double mb = cm + shift / nb, m2b = sq - shift * shift / nb;
                        double total = count + nb, delta = mb - m;
                        m += delta * nb / total;
                        m2 += m2b + delta * delta * count * nb / total;
                        count = total;
                    }
                }
                // An empty channel's statistics are 0/0, as the two-pass sums gave.
                mean[ch] = count > 0 ? m : double.NaN;
                var[ch] = count > 0 ? Math.Max(m2, 0) / count : double.NaN;
            });
        }
        return (mean, var);
    }

    /// <summary>Row <paramref name="row"/> (= image · C + channel) of [N, C, L] data.</summary>
    private static unsafe Span<float> Row(nint data, long row, int l) => new((float*)data + row * l, l);

    /// <summary>y = x·scale[c] + shift[c], then max(y, 0) when <paramref name="relu"/>, in one pass.</summary>
    public static unsafe void Affine(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, int n, int c, int l,
                                     bool relu = false)
    {
        var sc = scale.ToArray();
        var sh = shift.ToArray();
        fixed (float* px = x, py = y)
        {
            nint xs = (nint)px, ys = (nint)py;
            Parallelism.For(n * c, row =>
            {
                int ch = row % c;
                if (relu) Combine<No, No, Yes>(Row(xs, row, l), default, default, sc[ch], sh[ch], 0f, Row(ys, row, l));
                else Combine<No, No, No>(Row(xs, row, l), default, default, sc[ch], sh[ch], 0f, Row(ys, row, l));
            });
        }
    }

    /// <summary>
    /// Per-channel Σ dy and Σ dy·x̂ where x̂ = (x − mean)·invstd, and dy is <paramref name="dy"/> masked to where
    /// <paramref name="mask"/> is positive when a mask is given (the backward of a ReLU fused after the norm).
    /// </summary>
    public static unsafe (double[] SumDy, double[] SumDyXhat) GradSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mask,
                                                                     double[] mean, double[] invstd, int n, int c, int l)
    {
        var sdy = new double[c];
        var sdx = new double[c];
        bool masked = !mask.IsEmpty;
        fixed (float* px = x, pg = dy, pm = mask)
        {
            nint xs = (nint)px, gs = (nint)pg, ms = (nint)pm;
            Parallelism.For(c, ch =>
            {
                double a = 0, b = 0;
                for (long row = ch; row < (long)n * c; row += c)
                {
                    var (sum, dot) = masked
                        ? RowSums<Yes, Yes>(Row(gs, row, l), Row(xs, row, l), Row(ms, row, l), 0f, (float)mean[ch])
                        : RowSums<Yes, No>(Row(gs, row, l), Row(xs, row, l), default, 0f, (float)mean[ch]);
                    a += sum;
                    b += dot;
                }
                sdy[ch] = a;
                sdx[ch] = b * invstd[ch];
            });
        }
        return (sdy, sdx);
    }

    /// <summary>
    /// The batch-norm input gradient dx = dy·k[c] + (x·a[c] + o[c]), with dy masked to where <paramref name="mask"/> is
    /// positive when a mask is given, in one pass.
    /// </summary>
    public static unsafe void InputGrad(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float[] k, float[] a, float[] o,
                                        Span<float> dx, int n, int c, int l)
    {
        bool masked = !mask.IsEmpty;
        fixed (float* px = x, pg = dy, pm = mask, pd = dx)
        {
            nint xs = (nint)px, gs = (nint)pg, ms = (nint)pm, ds = (nint)pd;
            Parallelism.For(n * c, row =>
            {
                int ch = row % c;
                if (masked) Combine<Yes, Yes, No>(Row(xs, row, l), Row(gs, row, l), Row(ms, row, l), a[ch], o[ch], k[ch], Row(ds, row, l));
                else Combine<Yes, No, No>(Row(xs, row, l), Row(gs, row, l), default, a[ch], o[ch], k[ch], Row(ds, row, l));
            });
        }
    }

    /// <summary>Floats per block of the one-pass statistics: 16 KiB, read a second time from L1 (a block of 1,024 made long rows pay the per-call cost 32 times per row).</summary>
    private const int StatsBlock = 4096;

    /// <summary>Elements summed in float vectors before the partial sum moves to double: keeps a long row's rounding near a short one's.</summary>
    private const int Chunk = 1024;

    /// <summary>
    /// One row's Σ u and Σ u·(v − vShift), where u = x − xShift, zeroed where <paramref name="mask"/> is not positive
    /// with THasMask; without THasV, Dot is 0 (the flags are type arguments so each variant's loop is compiled without the tests). Σ(x − m)² is (x, x) with both shifts m.
    /// </summary>
    private static (double Sum, double Dot) RowSums<THasV, THasMask>(ReadOnlySpan<float> x, ReadOnlySpan<float> v, ReadOnlySpan<float> mask, float xShift, float vShift)
        where THasV : struct, IFlag where THasMask : struct, IFlag
    {
        bool hasV = THasV.On, hasMask = THasMask.On;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rv = ref MemoryMarshal.GetReference(v);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        double sum = 0, dot = 0;
        int len = x.Length, i = 0;
        var xs = Vector256.Create(xShift);
        var vs = Vector256.Create(vShift);
        while (i < len)
        {
            int end = Math.Min(len, i + Chunk);
            Vector256<float> s0 = default, s1 = default, d0 = default, d1 = default;
            for (; i + 16 <= end; i += 16)
            {
                var u0 = Vector256.LoadUnsafe(ref rx, (nuint)i) - xs;
                var u1 = Vector256.LoadUnsafe(ref rx, (nuint)i + 8) - xs;
                if (hasMask)
                {
                    u0 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref rm, (nuint)i), Vector256<float>.Zero), u0, default);
                    u1 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref rm, (nuint)i + 8), Vector256<float>.Zero), u1, default);
                }
                s0 += u0; s1 += u1;
                if (hasV)
                {
                    d0 += u0 * (Vector256.LoadUnsafe(ref rv, (nuint)i) - vs);
                    d1 += u1 * (Vector256.LoadUnsafe(ref rv, (nuint)i + 8) - vs);
                }
            }
            float fs = Vector256.Sum(s0 + s1), fd = Vector256.Sum(d0 + d1);
            for (; i < end; i++)
            {
                float u = Unsafe.Add(ref rx, i) - xShift;
                if (hasMask && !(Unsafe.Add(ref rm, i) > 0f)) u = 0f;
                fs += u;
                if (hasV) fd += u * (Unsafe.Add(ref rv, i) - vShift);
            }
            sum += fs;
            dot += fd;
        }
        return (sum, dot);
    }

    /// <summary>
    /// dst = (g·k) + (x·a + b), with g zeroed where <paramref name="mask"/> is not positive with THasMask and the
    /// g term absent without THasG; then max(dst, 0) with TRelu.
    /// </summary>
    private static void Combine<THasG, THasMask, TRelu>(ReadOnlySpan<float> x, ReadOnlySpan<float> g, ReadOnlySpan<float> mask, float a, float b, float k, Span<float> dst)
        where THasG : struct, IFlag where THasMask : struct, IFlag where TRelu : struct, IFlag
    {
        bool hasG = THasG.On, hasMask = THasMask.On, relu = TRelu.On;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        int len = x.Length, i = 0;
        var va = Vector256.Create(a);
        var vb = Vector256.Create(b);
        var vk = Vector256.Create(k);
        for (; i + 8 <= len; i += 8)
        {
            var y = Vector256.LoadUnsafe(ref rx, (nuint)i) * va + vb;
            if (hasG)
            {
                var gk = Vector256.LoadUnsafe(ref rg, (nuint)i) * vk;
                if (hasMask) gk = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref rm, (nuint)i), Vector256<float>.Zero), gk, default);
                y = gk + y;
            }
            if (relu) y = Vector256.Max(y, Vector256<float>.Zero);
            Vector256.StoreUnsafe(y, ref rd, (nuint)i);
        }
        for (; i < len; i++)
        {
            float y = Unsafe.Add(ref rx, i) * a + b;
            if (hasG)
            {
                float gk = Unsafe.Add(ref rg, i) * k;
                if (hasMask && !(Unsafe.Add(ref rm, i) > 0f)) gk = 0f;
                y = gk + y;
            }
            if (relu) y = Math.Max(y, 0f);
            Unsafe.Add(ref rd, i) = y;
        }
    }
}

/// <summary>A compile-time switch for generic kernels: each instantiation over <see cref="Yes"/> / <see cref="No"/> is compiled with the branch folded away.</summary>
internal interface IFlag
{
    static abstract bool On { get; }
}

internal struct Yes : IFlag
{
    public static bool On => true;
}

internal struct No : IFlag
{
    public static bool On => false;
}
