using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>The MR×NR register micro-kernels: AVX2/FMA and the portable Vector&lt;T&gt; fallback.</summary>
internal static unsafe partial class Gemm
{
    // ---------------------------------------------------------------- micro-kernels

    /// 6×16 AVX2+FMA micro-kernel: C[0:R, 0:16] (=|+=) A(R×kc) · Bpack(kc×16) (+ bias[i] on row i when bias is not null),
    /// R = <typeparamref name="TR"/>'s rows: 6 for the full tile, fewer for a ragged last row sliver, whose rows past R
    /// the JIT drops (no wasted FMAs, and the tile goes straight to C instead of through a stack tile). Each output is
    /// the same FMA chain over k whatever R, so edges and full tiles agree bit for bit.
    /// A(i, p) = a[i·rowStride + p·kStride]: a packed kc×MR sliver (1, MR) or six rows of A read in place (lda, 1);
    /// b: kc×NR sliver, its rows bs floats apart (NR packed, 32-byte aligned; or the row stride of a row-major B read in place), c: row stride ldc.
    /// With THalf, the tile is R×8: only B's first vector per k, for a last sliver of at most 8 columns (the 3×3/s2
    /// layer's 196 = 12·16 + 4, a 7×7 plane's 49 = 3·16 + 1), where the full tile would spend half its FMAs or more on padding.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelFma<TR, THalf>(int kc, float* a, nint rowStride, nint kStride, float* b, nint bs, float* c, int ldc, bool add, float* bias)
        where TR : IRowCount where THalf : struct, IFlag
    {
        int rows = TR.Rows;
        bool full = !THalf.On;
        Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
        if (bias != null)
        {
            // The bias epilogue fused as the accumulators' start value: no extra pass over the output.
            c00 = c01 = Avx.BroadcastScalarToVector256(bias);
            if (rows > 1) c10 = c11 = Avx.BroadcastScalarToVector256(bias + 1);
            if (rows > 2) c20 = c21 = Avx.BroadcastScalarToVector256(bias + 2);
            if (rows > 3) c30 = c31 = Avx.BroadcastScalarToVector256(bias + 3);
            if (rows > 4) c40 = c41 = Avx.BroadcastScalarToVector256(bias + 4);
            if (rows > 5) c50 = c51 = Avx.BroadcastScalarToVector256(bias + 5);
        }

        {
            // Pull the C tile toward L1 while the k loop runs (a row may straddle two lines).
            byte* q = (byte*)c;
            nint ld = (nint)ldc * sizeof(float);
            for (int i = 0; i < rows; i++, q += ld) { Sse.Prefetch0(q); Sse.Prefetch0(q + 60); }
        }
        // A element (i, p) is at a[i·rowStride + p·kStride]: packed slivers (1, MR) or rows of a row-major A read in place (lda, 1).
        float* r0 = a, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride, r4 = r3 + rowStride, r5 = r4 + rowStride;
        nint o = 0;
        // One k per iteration: the loop's add/compare/branch retire beside the 12 FMAs (hand-unrolling by 4 measured the same).
        int p = 0;
        for (; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadVector256(b);
            Vector256<float> b1 = full ? Avx.LoadVector256(b + 8) : default;
            Vector256<float> t;
            t = Avx.BroadcastScalarToVector256(r0 + o); c00 = Fma.MultiplyAdd(t, b0, c00); if (full) c01 = Fma.MultiplyAdd(t, b1, c01);
            if (rows > 1) { t = Avx.BroadcastScalarToVector256(r1 + o); c10 = Fma.MultiplyAdd(t, b0, c10); if (full) c11 = Fma.MultiplyAdd(t, b1, c11); }
            if (rows > 2) { t = Avx.BroadcastScalarToVector256(r2 + o); c20 = Fma.MultiplyAdd(t, b0, c20); if (full) c21 = Fma.MultiplyAdd(t, b1, c21); }
            if (rows > 3) { t = Avx.BroadcastScalarToVector256(r3 + o); c30 = Fma.MultiplyAdd(t, b0, c30); if (full) c31 = Fma.MultiplyAdd(t, b1, c31); }
            if (rows > 4) { t = Avx.BroadcastScalarToVector256(r4 + o); c40 = Fma.MultiplyAdd(t, b0, c40); if (full) c41 = Fma.MultiplyAdd(t, b1, c41); }
            if (rows > 5) { t = Avx.BroadcastScalarToVector256(r5 + o); c50 = Fma.MultiplyAdd(t, b0, c50); if (full) c51 = Fma.MultiplyAdd(t, b1, c51); }
            o += kStride;
            b += bs;
        }

        Ymm.Store(c, c00, add); if (full) Ymm.Store(c + 8, c01, add);
        if (rows > 1) { Ymm.Store(c + ldc, c10, add); if (full) Ymm.Store(c + ldc + 8, c11, add); }
        if (rows > 2) { Ymm.Store(c + 2 * ldc, c20, add); if (full) Ymm.Store(c + 2 * ldc + 8, c21, add); }
        if (rows > 3) { Ymm.Store(c + 3 * ldc, c30, add); if (full) Ymm.Store(c + 3 * ldc + 8, c31, add); }
        if (rows > 4) { Ymm.Store(c + 4 * ldc, c40, add); if (full) Ymm.Store(c + 4 * ldc + 8, c41, add); }
        if (rows > 5) { Ymm.Store(c + 5 * ldc, c50, add); if (full) Ymm.Store(c + 5 * ldc + 8, c51, add); }
    }

    /// <summary>The rows of a <see cref="KernelFma{TR, THalf}"/> tile, as a type so that each count is its own compiled kernel.</summary>
    internal interface IRowCount { static abstract int Rows { get; } }
    internal readonly struct Rows1 : IRowCount { public static int Rows => 1; }
    internal readonly struct Rows2 : IRowCount { public static int Rows => 2; }
    internal readonly struct Rows3 : IRowCount { public static int Rows => 3; }
    internal readonly struct Rows4 : IRowCount { public static int Rows => 4; }
    internal readonly struct Rows5 : IRowCount { public static int Rows => 5; }
    internal readonly struct Rows6 : IRowCount { public static int Rows => MR; }

    /// <summary><see cref="KernelFma{TR, THalf}"/> on the <paramref name="mr"/> (1 to 5) rows of a ragged last row sliver.</summary>
    private static void KernelFmaRows(int mr, int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool add, float* bias)
    {
        switch (mr)
        {
            case 1: KernelFma<Rows1, No>(kc, a, rs, ks, b, bs, c, ldc, add, bias); break;
            case 2: KernelFma<Rows2, No>(kc, a, rs, ks, b, bs, c, ldc, add, bias); break;
            case 3: KernelFma<Rows3, No>(kc, a, rs, ks, b, bs, c, ldc, add, bias); break;
            case 4: KernelFma<Rows4, No>(kc, a, rs, ks, b, bs, c, ldc, add, bias); break;
            default: KernelFma<Rows5, No>(kc, a, rs, ks, b, bs, c, ldc, add, bias); break;
        }
    }

    /// 16-row AVX-512-class micro-kernel: C[0:16, 0:W] (=|+=) A(16×kc) · Bpack(kc×16)[:, 0:W] (+ bias[i] on row i when bias
    /// is not null), W the width of <typeparamref name="TV"/>: 16 for <see cref="Zmm"/> (the full tile), 8 for
    /// <see cref="Ymm"/> (a last sliver of at most 8 columns: half the FMA work of a zmm tile, at the same rate per
    /// useful multiply-add, where the 16-wide tile would spend half its FMAs on padding: a 7×7 plane's 49 columns are
    /// three full slivers and one of a single column).
    /// A(i, p) = a[i·rs + p·ks]: a packed kc×<see cref="MR512"/> sliver (1, MR512) or sixteen rows of A read in place
    /// (lda, 1); b: the kc×NR sliver of <see cref="KernelFma{TR, THalf}"/>, its first W floats per k. With 32 registers the tile is
    /// 16 rows: per k one B load and 16 broadcast FMAs, 0.125 loaded floats per multiply-add against the 6×16 AVX2
    /// tile's 0.23. Each output is the same FMA chain over k as in <see cref="KernelFma{TR, THalf}"/>, so the kernels agree bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel16<TV, TVec>(int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool add, float* bias)
        where TV : IRowVector<TVec> where TVec : unmanaged
    {
        TVec c0 = Start<TV, TVec>(bias, 0), c1 = Start<TV, TVec>(bias, 1), c2 = Start<TV, TVec>(bias, 2), c3 = Start<TV, TVec>(bias, 3);
        TVec c4 = Start<TV, TVec>(bias, 4), c5 = Start<TV, TVec>(bias, 5), c6 = Start<TV, TVec>(bias, 6), c7 = Start<TV, TVec>(bias, 7);
        TVec c8 = Start<TV, TVec>(bias, 8), c9 = Start<TV, TVec>(bias, 9), c10 = Start<TV, TVec>(bias, 10), c11 = Start<TV, TVec>(bias, 11);
        TVec c12 = Start<TV, TVec>(bias, 12), c13 = Start<TV, TVec>(bias, 13), c14 = Start<TV, TVec>(bias, 14), c15 = Start<TV, TVec>(bias, 15);
        {
            byte* q = (byte*)c;
            nint ld = (nint)ldc * sizeof(float);
            for (int i = 0; i < 16; i++) Sse.Prefetch0(q + i * ld);
        }
        // Six row pointers, three rows apiece through base + rs·{0, 1, 2} addressing, keep the loop in general registers.
        float* r0 = a, r3 = r0 + 3 * rs, r6 = r3 + 3 * rs, r9 = r6 + 3 * rs, r12 = r9 + 3 * rs, r15 = r12 + 3 * rs;
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TV.Load(b);
            c0 = TV.MultiplyAdd(r0[0], b0, c0);
            c1 = TV.MultiplyAdd(r0[rs], b0, c1);
            c2 = TV.MultiplyAdd(r0[2 * rs], b0, c2);
            c3 = TV.MultiplyAdd(r3[0], b0, c3);
            c4 = TV.MultiplyAdd(r3[rs], b0, c4);
            c5 = TV.MultiplyAdd(r3[2 * rs], b0, c5);
            c6 = TV.MultiplyAdd(r6[0], b0, c6);
            c7 = TV.MultiplyAdd(r6[rs], b0, c7);
            c8 = TV.MultiplyAdd(r6[2 * rs], b0, c8);
            c9 = TV.MultiplyAdd(r9[0], b0, c9);
            c10 = TV.MultiplyAdd(r9[rs], b0, c10);
            c11 = TV.MultiplyAdd(r9[2 * rs], b0, c11);
            c12 = TV.MultiplyAdd(r12[0], b0, c12);
            c13 = TV.MultiplyAdd(r12[rs], b0, c13);
            c14 = TV.MultiplyAdd(r12[2 * rs], b0, c14);
            c15 = TV.MultiplyAdd(r15[0], b0, c15);
            r0 += ks; r3 += ks; r6 += ks; r9 += ks; r12 += ks; r15 += ks;
            b += bs;
        }
        TV.Store(c + 0 * (nint)ldc, c0, add);
        TV.Store(c + 1 * (nint)ldc, c1, add);
        TV.Store(c + 2 * (nint)ldc, c2, add);
        TV.Store(c + 3 * (nint)ldc, c3, add);
        TV.Store(c + 4 * (nint)ldc, c4, add);
        TV.Store(c + 5 * (nint)ldc, c5, add);
        TV.Store(c + 6 * (nint)ldc, c6, add);
        TV.Store(c + 7 * (nint)ldc, c7, add);
        TV.Store(c + 8 * (nint)ldc, c8, add);
        TV.Store(c + 9 * (nint)ldc, c9, add);
        TV.Store(c + 10 * (nint)ldc, c10, add);
        TV.Store(c + 11 * (nint)ldc, c11, add);
        TV.Store(c + 12 * (nint)ldc, c12, add);
        TV.Store(c + 13 * (nint)ldc, c13, add);
        TV.Store(c + 14 * (nint)ldc, c14, add);
        TV.Store(c + 15 * (nint)ldc, c15, add);
    }

    /// 8×32 AVX-512 micro-kernel: C[0:8, 0:32] (=|+=) A(8×kc) · [B0 B1](kc×32) (+ bias[i] on row i when bias is not
    /// null), on two adjacent kc×NR slivers of <see cref="Kernel16{TV, TVec}"/>'s B (b0 and b1, rows bs floats apart
    /// in both) and half of a 16-row A sliver (same rs / ks addressing). Per k two B loads and 8 broadcasts feed 16 FMAs:
    /// 0.625 loads per FMA against the 16×16 tile's 1.06, which is what a core with two full-width 512-bit FMA pipes
    /// (Zen 5) needs: on cached slivers 16×16 ran at 75-88 % of its FMA peak and 8×32 at 91-94 %. Each output is the
    /// same FMA chain over k as in the other kernels, so all agree bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32<TR>(int kc, float* a, nint rs, nint ks, float* b0, float* b1, nint bs, int* rows, float* c, int ldc, bool add,
                                       float* bias) where TR : IBRows
    {
        Vector512<float> c00 = Start<Zmm, Vector512<float>>(bias, 0), c10 = Start<Zmm, Vector512<float>>(bias, 1);
        Vector512<float> c20 = Start<Zmm, Vector512<float>>(bias, 2), c30 = Start<Zmm, Vector512<float>>(bias, 3);
        Vector512<float> c40 = Start<Zmm, Vector512<float>>(bias, 4), c50 = Start<Zmm, Vector512<float>>(bias, 5);
        Vector512<float> c60 = Start<Zmm, Vector512<float>>(bias, 6), c70 = Start<Zmm, Vector512<float>>(bias, 7);
        Vector512<float> c01 = c00, c11 = c10, c21 = c20, c31 = c30, c41 = c40, c51 = c50, c61 = c60, c71 = c70;
        {
            byte* q = (byte*)c;
            nint ld = (nint)ldc * sizeof(float);
            for (int i = 0; i < 8; i++) { Sse.Prefetch0(q + i * ld); Sse.Prefetch0(q + i * ld + 64); }
        }
        float* r0 = a, r3 = r0 + 3 * rs, r6 = r3 + 3 * rs;
        nint d = (nint)(b1 - b0);
        float* bp = TR.First(b0, rows);
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> x0 = Avx512F.LoadVector512(bp), x1 = Avx512F.LoadVector512(bp + d), t;
            t = Vector512.Create(r0[0]); c00 = Avx512F.FusedMultiplyAdd(t, x0, c00); c01 = Avx512F.FusedMultiplyAdd(t, x1, c01);
            t = Vector512.Create(r0[rs]); c10 = Avx512F.FusedMultiplyAdd(t, x0, c10); c11 = Avx512F.FusedMultiplyAdd(t, x1, c11);
            t = Vector512.Create(r0[2 * rs]); c20 = Avx512F.FusedMultiplyAdd(t, x0, c20); c21 = Avx512F.FusedMultiplyAdd(t, x1, c21);
            t = Vector512.Create(r3[0]); c30 = Avx512F.FusedMultiplyAdd(t, x0, c30); c31 = Avx512F.FusedMultiplyAdd(t, x1, c31);
            t = Vector512.Create(r3[rs]); c40 = Avx512F.FusedMultiplyAdd(t, x0, c40); c41 = Avx512F.FusedMultiplyAdd(t, x1, c41);
            t = Vector512.Create(r3[2 * rs]); c50 = Avx512F.FusedMultiplyAdd(t, x0, c50); c51 = Avx512F.FusedMultiplyAdd(t, x1, c51);
            t = Vector512.Create(r6[0]); c60 = Avx512F.FusedMultiplyAdd(t, x0, c60); c61 = Avx512F.FusedMultiplyAdd(t, x1, c61);
            t = Vector512.Create(r6[rs]); c70 = Avx512F.FusedMultiplyAdd(t, x0, c70); c71 = Avx512F.FusedMultiplyAdd(t, x1, c71);
            r0 += ks; r3 += ks; r6 += ks;
            bp = TR.Next(bp, b0, bs, rows, p + 1);
        }
        nint l = ldc;
        Zmm.Store(c, c00, add); Zmm.Store(c + 16, c01, add);
        Zmm.Store(c + l, c10, add); Zmm.Store(c + l + 16, c11, add);
        Zmm.Store(c + 2 * l, c20, add); Zmm.Store(c + 2 * l + 16, c21, add);
        Zmm.Store(c + 3 * l, c30, add); Zmm.Store(c + 3 * l + 16, c31, add);
        Zmm.Store(c + 4 * l, c40, add); Zmm.Store(c + 4 * l + 16, c41, add);
        Zmm.Store(c + 5 * l, c50, add); Zmm.Store(c + 5 * l + 16, c51, add);
        Zmm.Store(c + 6 * l, c60, add); Zmm.Store(c + 6 * l + 16, c61, add);
        Zmm.Store(c + 7 * l, c70, add); Zmm.Store(c + 7 * l + 16, c71, add);
    }

    /// <summary>How <see cref="Kernel8x32{TR}"/> steps from one k row of its B slivers to the next.</summary>
    internal interface IBRows
    {
        static abstract float* First(float* b, int* rows);
        static abstract float* Next(float* row, float* b, nint bs, int* rows, int p);
    }

    /// <summary>Rows bs floats apart: packed slivers (NR) or a row-major B read in place (its row stride).</summary>
    internal readonly struct StridedRows : IBRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float* First(float* b, int* rows) => b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float* Next(float* row, float* b, nint bs, int* rows, int p) => row + bs;
    }

    /// <summary>Row p at b + rows[p] (<see cref="IPanelB.RowsInPlace"/>); rows has kc + 1 entries, the last a valid copy.</summary>
    internal readonly struct OffsetRows : IBRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float* First(float* b, int* rows) => b + rows[0];
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float* Next(float* row, float* b, nint bs, int* rows, int p) => b + rows[p];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Start<TV, TVec>(float* bias, int row) where TV : IRowVector<TVec> where TVec : unmanaged =>
        bias == null ? default : TV.Broadcast(bias[row]);

    /// <summary>
    /// The row vector operations of <see cref="Kernel16{TV, TVec}"/> on TVec, one tile row's accumulator of W floats
    /// (the kernel's locals stay plain vectors, which the JIT allocates as it does hand-written ones).
    /// </summary>
    internal interface IRowVector<TVec> where TVec : unmanaged
    {
        static abstract TVec Load(float* p);
        static abstract TVec Broadcast(float s);
        /// <summary>a·b + c, one rounding.</summary>
        static abstract TVec MultiplyAdd(float a, TVec b, TVec c);
        /// <summary>Stores v at p, or v + p's W floats when <paramref name="add"/>.</summary>
        static abstract void Store(float* p, TVec v, bool add);
    }

    /// <summary>16 floats in a zmm register.</summary>
    internal readonly struct Zmm : IRowVector<Vector512<float>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Avx512F.LoadVector512(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float s) => Vector512.Create(s);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(float a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(Vector512.Create(a), b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* p, Vector512<float> v, bool add) => Avx512F.Store(p, add ? Avx512F.Add(v, Avx512F.LoadVector512(p)) : v);
    }

    /// <summary>8 floats in a ymm register (encoded with EVEX, so all 32 registers are available).</summary>
    internal readonly struct Ymm : IRowVector<Vector256<float>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Avx.LoadVector256(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float s) => Vector256.Create(s);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(float a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(Vector256.Create(a), b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* p, Vector256<float> v, bool add) => Avx.Store(p, add ? Avx.Add(v, Avx.LoadVector256(p)) : v);
    }

    /// Portable micro-kernel (Vector128, any ISA; software fallback where not accelerated).
    /// Same packed layout as <see cref="KernelFma{TR, THalf}"/>; processes the 6×16 tile as three
    /// 2×16 strips so 8 accumulators + 4 B vectors fit in 16 SSE/NEON registers.
    private static void KernelPortable(int kc, float* a, nint rowStride, nint kStride, float* b, nint bs, float* c, int ldc, bool add, float* bias)
    {
        for (int i = 0; i < MR; i += 2)
        {
            Vector128<float> x0 = bias == null ? Vector128<float>.Zero : Vector128.Create(bias[i]), x1 = x0, x2 = x0, x3 = x0;
            Vector128<float> y0 = bias == null ? Vector128<float>.Zero : Vector128.Create(bias[i + 1]), y1 = y0, y2 = y0, y3 = y0;
            float* ap = a + i * rowStride, aq = ap + rowStride;
            float* bp = b;
            for (int p = 0; p < kc; p++)
            {
                Vector128<float> b0 = Vector128.Load(bp), b1 = Vector128.Load(bp + 4);
                Vector128<float> b2 = Vector128.Load(bp + 8), b3 = Vector128.Load(bp + 12);
                Vector128<float> s = Vector128.Create(*ap);
                x0 += s * b0; x1 += s * b1; x2 += s * b2; x3 += s * b3;
                s = Vector128.Create(*aq);
                y0 += s * b0; y1 += s * b1; y2 += s * b2; y3 += s * b3;
                ap += kStride; aq += kStride; bp += bs;
            }
            float* r0 = c + (long)i * ldc, r1 = r0 + ldc;
            if (add)
            {
                x0 += Vector128.Load(r0); x1 += Vector128.Load(r0 + 4); x2 += Vector128.Load(r0 + 8); x3 += Vector128.Load(r0 + 12);
                y0 += Vector128.Load(r1); y1 += Vector128.Load(r1 + 4); y2 += Vector128.Load(r1 + 8); y3 += Vector128.Load(r1 + 12);
            }
            x0.Store(r0); x1.Store(r0 + 4); x2.Store(r0 + 8); x3.Store(r0 + 12);
            y0.Store(r1); y1.Store(r1 + 4); y2.Store(r1 + 8); y3.Store(r1 + 12);
        }
    }
}
