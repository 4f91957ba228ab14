using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Direct convolution for depthwise layers (one input channel per group, any channel multiplier). Forward with AVX2,
/// stride 1 or 2 and rows of at least 32 outputs keeps 32 outputs in four registers and runs all KH·KW taps into them
/// (clipped loads at the edges, one store per 8 outputs); otherwise each output plane is a sum of shifted, scaled input rows, one vectorised
/// multiply-add per kernel tap and output row. Planes run in parallel. Wins over im2col + GEMM, whose per-group GEMMs
/// would have a single-row A.
/// </summary>
internal static unsafe class DepthwiseConv
{
    public static bool Applies(Conv2dParams p) => p.CInPerGroup == 1 && p.Groups > 1;

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        if (Gemm.UsesFma && p.KH == 3 && p.KW == 3 && p.DilationW == 1 && p.OutW >= 16 && p.StrideW <= 2)
        {
            if (p.StrideW == 1) Forward3x3<Stride1>(x, w, bias, y, p);
            else Forward3x3<Stride2>(x, w, bias, y, p);
            return;
        }
        if (Gemm.UsesFma && p.StrideW <= 2 && p.OutW >= 32)
        {
            RegisterForward(x, w, bias, y, p);
            return;
        }
        int mult = p.COutPerGroup;
        float[]? b = bias.IsEmpty ? null : bias.ToArray();
        var rows = Taps(p);
        fixed (float* px = x, pw = w, py = y)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            Parallelism.For(p.N * p.COut, plane =>
            {
                int n = plane / p.COut, co = plane % p.COut, ci = co / mult;
                var src = new ReadOnlySpan<float>((float*)xs + ((long)n * p.CIn + ci) * p.InPlane, p.InPlane);
                var dst = new Span<float>((float*)ys + (long)plane * p.OutPlane, p.OutPlane);
                dst.Fill(b is null ? 0f : b[co]);
                var k = new ReadOnlySpan<float>((float*)ws + (long)co * p.KH * p.KW, p.KH * p.KW);
                foreach (var r in rows)
                {
                    var o = dst.Slice(r.Oh * p.OutW + r.OwLo, r.OwHi - r.OwLo);
                    var i = src.Slice(r.Ih * p.W);
                    if (p.StrideW == 1) TensorPrimitives.MultiplyAdd(i.Slice(r.Iw0, o.Length), k[r.Tap], o, o);
                    else for (int t = 0; t < o.Length; t++) o[t] += k[r.Tap] * i[r.Iw0 + t * p.StrideW];
                }
            });
        }
    }

    /// <summary>Forward with 32 outputs of a row accumulated in four registers over every tap (AVX2/FMA, StrideW 1 or 2, OutW ≥ 32).</summary>
    private static void RegisterForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        // The geometry in locals: Conv2dParams is a class, and its fields would be re-read after every store.
        int taps = p.KH * p.KW;
        int H = p.H, W = p.W, OH = p.OutH, OW = p.OutW, KH = p.KH, KW = p.KW, SH = p.StrideH, SW = p.StrideW;
        int PT = p.PadTop, PL = p.PadLeft, DH = p.DilationH, DW = p.DilationW;
        ForEachPlane(x, w, bias, y, p, (src, dst, k, bias0) =>
        {
            // The taps broadcast once per plane, not once per output vector.
            var wv = stackalloc Vector256<float>[taps];
            for (int t = 0; t < taps; t++) wv[t] = Vector256.Create(k[t]);
            var b0 = Vector256.Create(bias0);
            for (int oh = 0; oh < OH; oh++)
            {
                int ih0 = oh * SH - PT;
                float* orow = dst + (long)oh * OW;
                // Four output vectors at a time: four independent FMA chains and a quarter of the loop overhead per tap.
                // The last block ends at OutW, overlapping the one before: it recomputes a few outputs, identically.
                for (int o = 0; o < OW; o += 32)
                {
                    int ow = Math.Min(o, OW - 32);
                    Vector256<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0;
                    int iwBase = ow * SW - PL, step = 8 * SW;
                    for (int kh = 0; kh < KH; kh++)
                    {
                        int ih = ih0 + kh * DH;
                        if ((uint)ih >= (uint)H) continue;
                        float* irow = src + (long)ih * W;
                        var wk = wv + kh * KW;
                        for (int kw = 0; kw < KW; kw++)
                        {
                            int iw = iwBase + kw * DW;
                            var wt = wk[kw];
                            a0 = Fma.MultiplyAdd(ConvImage.LoadStrided(irow + iw, iw, W, SW), wt, a0);
                            a1 = Fma.MultiplyAdd(ConvImage.LoadStrided(irow + iw + step, iw + step, W, SW), wt, a1);
                            a2 = Fma.MultiplyAdd(ConvImage.LoadStrided(irow + iw + 2 * step, iw + 2 * step, W, SW), wt, a2);
                            a3 = Fma.MultiplyAdd(ConvImage.LoadStrided(irow + iw + 3 * step, iw + 3 * step, W, SW), wt, a3);
                        }
                    }
                    a0.Store(orow + ow); a1.Store(orow + ow + 8); a2.Store(orow + ow + 16); a3.Store(orow + ow + 24);
                }
            }
        });
    }

    private delegate void PlaneBody(float* src, float* dst, float* k, float bias);

    /// <summary>Runs <paramref name="body"/> on every output plane [n, co] in parallel, with its input plane, filter and bias.</summary>
    private static void ForEachPlane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, PlaneBody body)
    {
        int mult = p.COutPerGroup, taps = p.KH * p.KW, cOut = p.COut, cIn = p.CIn, inPlane = p.InPlane, outPlane = p.OutPlane;
        fixed (float* px = x, pw = w, py = y, pb = bias)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py, bs = bias.IsEmpty ? 0 : (nint)pb;
            Parallelism.For(p.N * cOut, plane =>
            {
                int n = plane / cOut, co = plane % cOut;
                body((float*)xs + ((long)n * cIn + co / mult) * inPlane, (float*)ys + (long)plane * outPlane, (float*)ws + (long)co * taps,
                     bs == 0 ? 0f : ((float*)bs)[co]);
            });
        }
    }

    /// <summary>Eight inputs for eight adjacent outputs at a horizontal stride: the interior load and the clipped one.</summary>
    private interface IStride
    {
        static abstract int Step { get; }
        static abstract Vector256<float> Load(float* src);
        static abstract Vector256<float> LoadClipped(float* src, int iw, int width);
    }

    private struct Stride1 : IStride
    {
        public static int Step => 1;
        public static Vector256<float> Load(float* src) => Avx.LoadVector256(src);
        public static Vector256<float> LoadClipped(float* src, int iw, int width) => ConvImage.LoadClipped(src, iw, width);
    }

    private struct Stride2 : IStride
    {
        public static int Step => 2;
        public static Vector256<float> Load(float* src) => Shuffles.Deinterleave(Avx.LoadVector256(src), Avx.LoadVector256(src + 8)).Even;
        public static Vector256<float> LoadClipped(float* src, int iw, int width) => ConvImage.LoadStrided(src, iw, width, 2);
    }

    /// <summary>
    /// 3×3 forward (any vertical stride, padding and dilation; horizontal dilation 1, stride 1 or 2): the nine taps stay
    /// in registers for the whole plane, and 16 outputs take two accumulators, so a tap costs one load and one FMA per
    /// vector. Blocks whose inputs lie inside the row skip the edge masks. Against the generic register path's per-load
    /// clipping and tap loop: 0.36 → 0.18 ms for a C32 112×112 plane set on one thread. Each plane runs in a method of
    /// its own with the geometry in registers and the three kernel rows unrolled: when the plane loop was a lambda its
    /// captured geometry was re-read from the closure and the rows went through a loop with a per-row weight select,
    /// and that version was 1.13–1.35× slower (paired, 2 threads: C32 112×112, C96 56×56/s2, N8 C64 56×56, C144 56×56,
    /// N64 C32 28×28), with the same bits.
    /// </summary>
    private static void Forward3x3<TS>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
        where TS : struct, IStride
    {
        var g = new Geometry3x3(p.H, p.W, p.OutH, p.OutW, p.StrideH, p.PadTop, p.PadLeft, p.DilationH);
        ForEachPlane(x, w, bias, y, p, (src, dst, k, bias0) => Plane3x3<TS>(g, src, dst, k, bias0));
    }

    /// <summary>The geometry <see cref="Plane3x3{TS}"/> reads, passed by value so its fields live in registers rather than in a closure.</summary>
    private readonly record struct Geometry3x3(int H, int W, int OH, int OW, int SH, int PT, int PL, int DH);

    private static void Plane3x3<TS>(Geometry3x3 g, float* src, float* dst, float* k, float bias0) where TS : struct, IStride
    {
        int H = g.H, W = g.W, OH = g.OH, OW = g.OW, SH = g.SH, PT = g.PT, PL = g.PL, DH = g.DH;
        int sw = TS.Step, reach = 16 * sw + 2, v = 8 * sw;
        Vector256<float> w0 = Vector256.Create(k[0]), w1 = Vector256.Create(k[1]), w2 = Vector256.Create(k[2]);
        Vector256<float> w3 = Vector256.Create(k[3]), w4 = Vector256.Create(k[4]), w5 = Vector256.Create(k[5]);
        Vector256<float> w6 = Vector256.Create(k[6]), w7 = Vector256.Create(k[7]), w8 = Vector256.Create(k[8]);
        var b0 = Vector256.Create(bias0);
        for (int oh = 0; oh < OH; oh++)
        {
            int ih0 = oh * SH - PT;
            bool ok0 = (uint)ih0 < (uint)H, ok1 = (uint)(ih0 + DH) < (uint)H, ok2 = (uint)(ih0 + 2 * DH) < (uint)H;
            float* row0 = src + (long)ih0 * W, row1 = row0 + (long)DH * W, row2 = row1 + (long)DH * W;
            float* orow = dst + (long)oh * OW;
            // The last block ends at OutW, overlapping the one before: it recomputes a few outputs, identically.
            for (int o = 0; o < OW; o += 16)
            {
                int ow = Math.Min(o, OW - 16), iw = ow * sw - PL;
                bool inside = iw >= 0 && iw + reach <= W;
                Vector256<float> a0 = b0, a1 = b0;
                // Rows outside the plane add nothing; the taps run in the order kh, kw, as the reference sums them.
                if (ok0)
                {
                    a0 = RowTaps<TS>(row0 + iw, iw, W, inside, w0, w1, w2, a0);
                    a1 = RowTaps<TS>(row0 + iw + v, iw + v, W, inside, w0, w1, w2, a1);
                }
                if (ok1)
                {
                    a0 = RowTaps<TS>(row1 + iw, iw, W, inside, w3, w4, w5, a0);
                    a1 = RowTaps<TS>(row1 + iw + v, iw + v, W, inside, w3, w4, w5, a1);
                }
                if (ok2)
                {
                    a0 = RowTaps<TS>(row2 + iw, iw, W, inside, w6, w7, w8, a0);
                    a1 = RowTaps<TS>(row2 + iw + v, iw + v, W, inside, w6, w7, w8, a1);
                }
                a0.Store(orow + ow);
                a1.Store(orow + ow + 8);
            }
        }
    }

    /// <summary>a + the three taps of one kernel row on the 8 outputs whose first input is q (column iw): plain loads inside the row, clipped ones at its edges.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RowTaps<TS>(float* q, int iw, int width, bool inside, Vector256<float> t0, Vector256<float> t1, Vector256<float> t2,
                                                Vector256<float> a) where TS : struct, IStride =>
        inside
            ? Fma.MultiplyAdd(TS.Load(q + 2), t2, Fma.MultiplyAdd(TS.Load(q + 1), t1, Fma.MultiplyAdd(TS.Load(q), t0, a)))
            : Fma.MultiplyAdd(TS.LoadClipped(q + 2, iw + 2, width), t2,
                Fma.MultiplyAdd(TS.LoadClipped(q + 1, iw + 1, width), t1, Fma.MultiplyAdd(TS.LoadClipped(q, iw, width), t0, a)));

    /// <summary>dx[n, ci] = Σ over the channel's outputs and taps of w·dy, scattered back; each dx plane is owned by one task.</summary>
    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        int mult = p.COutPerGroup;
        float[]? b = bias.IsEmpty ? null : bias.ToArray();
        var rows = Taps(p);
        fixed (float* px = x, pw = w, py = y)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            Parallelism.For(p.N * p.CIn, plane =>
            {
                int n = plane / p.CIn, ci = plane % p.CIn;
                var dst = new Span<float>((float*)xs + (long)plane * p.InPlane, p.InPlane);
                dst.Fill(b is null ? 0f : b[ci]);
                for (int m = 0; m < mult; m++)
                {
                    int co = ci * mult + m;
                    var g = new ReadOnlySpan<float>((float*)ys + ((long)n * p.COut + co) * p.OutPlane, p.OutPlane);
                    var k = new ReadOnlySpan<float>((float*)ws + (long)co * p.KH * p.KW, p.KH * p.KW);
                    foreach (var r in rows)
                    {
                        var gi = g.Slice(r.Oh * p.OutW + r.OwLo, r.OwHi - r.OwLo);
                        var d = dst.Slice(r.Ih * p.W);
                        if (p.StrideW == 1) { var seg = d.Slice(r.Iw0, gi.Length); TensorPrimitives.MultiplyAdd(gi, k[r.Tap], seg, seg); }
                        else for (int t = 0; t < gi.Length; t++) d[r.Iw0 + t * p.StrideW] += k[r.Tap] * gi[t];
                    }
                }
            });
        }
    }

    /// <summary>dw[co, kh, kw] = Σ over images and valid positions of dy·x (a dot product per output row and tap).</summary>
    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        int mult = p.COutPerGroup, taps = p.KH * p.KW;
        var rows = Taps(p);
        fixed (float* px = x, pw = dw, py = dy)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            Parallelism.For(p.COut, co =>
            {
                int ci = co / mult;
                var acc = new double[taps];
                for (int n = 0; n < p.N; n++)
                {
                    var src = new ReadOnlySpan<float>((float*)xs + ((long)n * p.CIn + ci) * p.InPlane, p.InPlane);
                    var g = new ReadOnlySpan<float>((float*)ys + ((long)n * p.COut + co) * p.OutPlane, p.OutPlane);
                    foreach (var r in rows)
                    {
                        var gi = g.Slice(r.Oh * p.OutW + r.OwLo, r.OwHi - r.OwLo);
                        var i = src.Slice(r.Ih * p.W);
                        if (p.StrideW == 1) acc[r.Tap] += TensorPrimitives.Dot(gi, i.Slice(r.Iw0, gi.Length));
                        else for (int t = 0; t < gi.Length; t++) acc[r.Tap] += gi[t] * i[r.Iw0 + t * p.StrideW];
                    }
                }
                var dst = new Span<float>((float*)ws + (long)co * taps, taps);
                for (int t = 0; t < taps; t++) dst[t] = (float)acc[t];
            });
        }
    }

    private readonly record struct TapRow(int Oh, int Ih, int OwLo, int OwHi, int Iw0, int Tap);

    /// <summary>Every (output row, tap) pair with its valid output columns and first input column; the same for all planes.</summary>
    private static TapRow[] Taps(Conv2dParams p)
    {
        var rows = new List<TapRow>();
        for (int kh = 0; kh < p.KH; kh++)
        {
            var (ohLo, ohHi) = Im2Col.ValidRange(p.OutH, p.H, p.StrideH, p.PadTop, kh * p.DilationH);
            for (int kw = 0; kw < p.KW; kw++)
            {
                var (owLo, owHi) = Im2Col.ValidRange(p.OutW, p.W, p.StrideW, p.PadLeft, kw * p.DilationW);
                if (owLo >= owHi) continue;
                int iw0 = owLo * p.StrideW - p.PadLeft + kw * p.DilationW;
                for (int oh = ohLo; oh < ohHi; oh++)
                    rows.Add(new TapRow(oh, oh * p.StrideH - p.PadTop + kh * p.DilationH, owLo, owHi, iw0, kh * p.KW + kw));
            }
        }
        return rows.ToArray();
    }
}
