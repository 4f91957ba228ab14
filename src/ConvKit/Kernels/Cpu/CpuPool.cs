using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvKit.Kernels.Reference;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Float max pooling, planes in parallel, with exactly the reference's semantics (ATen's window clipping,
/// NaN wins, the first maximum's flat index) but without the generic per-element overhead.
/// </summary>
internal static unsafe class CpuPool
{
    public static void MaxPool(ReadOnlySpan<float> x, Span<float> y, Span<long> indices, Pool2dParams p)
    {
        int H = p.H, W = p.W, OH = p.OutH, OW = p.OutW, KH = p.KH, KW = p.KW, SH = p.StrideH, SW = p.StrideW;
        int PH = p.PadH, PW = p.PadW, DH = p.DilationH, DW = p.DilationW, inPlane = p.InPlane, outPlane = p.OutPlane;
        // The common 2×2, stride-2, unpadded pool whose windows all fit: four loads, no clipping.
        bool twoByTwo = KH == 2 && KW == 2 && SH == 2 && SW == 2 && PH == 0 && PW == 0 && DH == 1 && DW == 1 && 2 * OH <= H && 2 * OW <= W;
        fixed (float* px = x, py = y)
        fixed (long* pi = indices)
        {
            nint xs = (nint)px, ys = (nint)py, ids = (nint)pi;
            Parallelism.For(p.Planes, c =>
            {
                float* plane = (float*)xs + (long)c * inPlane;
                float* outp = (float*)ys + (long)c * outPlane;
                long* outi = (long*)ids + (long)c * outPlane;
                for (int oh = 0; oh < OH; oh++)
                {
                    if (twoByTwo)
                    {
                        float* r0 = plane + (long)(2 * oh) * W;
                        float* r1 = r0 + W;
                        int ow = Avx2.IsSupported ? TwoByTwoRow(r0, r1, 2 * oh * W, W, outp + oh * OW, outi + oh * OW, OW) : 0;
                        for (; ow < OW; ow++)
                        {
                            int iw = 2 * ow;
                            long best = (long)(2 * oh) * W + iw;
                            float max = r0[iw];
                            if (r0[iw + 1] > max || float.IsNaN(r0[iw + 1])) { max = r0[iw + 1]; best += 1; }
                            if (r1[iw] > max || float.IsNaN(r1[iw])) { max = r1[iw]; best = (long)(2 * oh + 1) * W + iw; }
                            if (r1[iw + 1] > max || float.IsNaN(r1[iw + 1])) { max = r1[iw + 1]; best = (long)(2 * oh + 1) * W + iw + 1; }
                            outp[oh * OW + ow] = max;
                            outi[oh * OW + ow] = best;
                        }
                        continue;
                    }
                    int h0 = oh * SH - PH;
                    int h1 = Math.Min(h0 + (KH - 1) * DH + 1, H);
                    while (h0 < 0) h0 += DH;
                    // Windows whose columns all lie inside the row run 8 at a time; the clipped ones at the edges, one by one.
                    int first = Math.Min(OW, (PW + SW - 1) / SW), end = first;
                    if (Avx2.IsSupported && SW <= 2)
                        end = WindowsRow(plane, h0, h1, first, outp + oh * OW, outi + oh * OW, W, OW, KW, SW, PW, DH, DW);
                    for (int ow = 0; ow < OW; ow++)
                    {
                        if (ow == first) ow = end;
                        if (ow >= OW) break;
                        int w0 = ow * SW - PW;
                        int w1 = Math.Min(w0 + (KW - 1) * DW + 1, W);
                        while (w0 < 0) w0 += DW;
                        long best = (long)h0 * W + w0;
                        float max = float.NegativeInfinity;
                        for (int ih = h0; ih < h1; ih += DH)
                        {
                            float* row = plane + (long)ih * W;
                            for (int iw = w0; iw < w1; iw += DW)
                            {
                                float v = row[iw];
                                if (v > max || float.IsNaN(v)) { max = v; best = (long)ih * W + iw; }
                            }
                        }
                        outp[oh * OW + ow] = max;
                        outi[oh * OW + ow] = best;
                    }
                }
            });
        }
    }

    /// <summary>
    /// Eight 2×2/s2 windows at a time: the two input rows de-interleaved into even and odd columns, the four taps
    /// compared in the scalar loop's order with its replacement rule (greater, or NaN), indices tracked in int lanes
    /// and widened to long. Rows of fewer than 8 outputs (SmallSECnn's 14×14 → 7×7) are one masked block. Returns how
    /// many outputs of the row it wrote: all of them.
    /// </summary>
    private static int TwoByTwoRow(float* r0, float* r1, int rowStart, int w, float* outp, long* outi, int outW)
    {
        if (outW < 8)
        {
            // One masked block: the rows' 2·outW ≤ w columns loaded (masked lanes read 0 and feed only unused outputs),
            // the outW outputs stored through masks.
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var lo = Vector256.LessThan(lanes, Vector256.Create(w)).AsSingle();
            var hi = Vector256.LessThan(lanes + Vector256.Create(8), Vector256.Create(w)).AsSingle();
            var (max, best) = TwoByTwoBlock(Avx.MaskLoad(r0, lo), Avx.MaskLoad(r0 + 8, hi), Avx.MaskLoad(r1, lo), Avx.MaskLoad(r1 + 8, hi), rowStart, w);
            Avx.MaskStore(outp, Vector256.LessThan(lanes, Vector256.Create(outW)).AsSingle(), max);
            var lanes64 = Vector256.Create(0L, 1, 2, 3);
            Avx2.MaskStore(outi, Vector256.LessThan(lanes64, Vector256.Create((long)outW)), Avx2.ConvertToVector256Int64(best.GetLower()));
            Avx2.MaskStore(outi + 4, Vector256.LessThan(lanes64 + Vector256.Create(4L), Vector256.Create((long)outW)), Avx2.ConvertToVector256Int64(best.GetUpper()));
            return outW;
        }
        // The last block ends at outW, overlapping the one before: it recomputes a few outputs, identically.
        for (int o = 0; o < outW; o += 8)
        {
            int ow = Math.Min(o, outW - 8), iw = 2 * ow;
            var (max, best) = TwoByTwoBlock(Avx.LoadVector256(r0 + iw), Avx.LoadVector256(r0 + iw + 8),
                                            Avx.LoadVector256(r1 + iw), Avx.LoadVector256(r1 + iw + 8), rowStart + iw, w);
            max.Store(outp + ow);
            Avx2.ConvertToVector256Int64(best.GetLower()).Store(outi + ow);
            Avx2.ConvertToVector256Int64(best.GetUpper()).Store(outi + ow + 4);
        }
        return outW;
    }

    /// <summary>
    /// Eight 2×2/s2 windows from 16 columns of two rows (the first at flat index <paramref name="start"/>): their maxima
    /// and flat indices, the four taps compared in the scalar loop's order.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Max, Vector256<int> Best) TwoByTwoBlock(Vector256<float> r0Lo, Vector256<float> r0Hi,
                                                                            Vector256<float> r1Lo, Vector256<float> r1Hi, int start, int w)
    {
        var (a0, a1) = Shuffles.Deinterleave(r0Lo, r0Hi);
        var (b0, b1) = Shuffles.Deinterleave(r1Lo, r1Hi);
        var idx = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14) + Vector256.Create(start);
        var max = a0;
        var best = idx;
        Take(ref max, ref best, a1, idx + Vector256.Create(1));
        Take(ref max, ref best, b0, idx + Vector256.Create(w));
        Take(ref max, ref best, b1, idx + Vector256.Create(w + 1));
        return (max, best);
    }

    /// <summary>
    /// Outputs [from, …) of one row, 8 at a time while their windows' columns all lie inside the row: the taps are read
    /// in the scalar loop's row-major order with its replacement rule (<see cref="Take"/>), so values and indices are the
    /// same. Stride 2 de-interleaves two loads. Returns the first output it did not write.
    /// </summary>
    private static int WindowsRow(float* plane, int h0, int h1, int from, float* outp, long* outi, int w, int outW, int kw, int sw, int pw, int dh, int dw)
    {
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * sw;
        int ow = from;
        // The last column read by the chunk's last tap: one vector (stride 1) or two (stride 2) from its first column.
        for (; ow + 8 <= outW && ow * sw - pw + (kw - 1) * dw + 8 * sw <= w; ow += 8)
        {
            int c0 = ow * sw - pw;
            var max = Vector256.Create(float.NegativeInfinity);
            var best = lanes + Vector256.Create(h0 * w + c0);
            for (int ih = h0; ih < h1; ih += dh)
            {
                float* row = plane + (long)ih * w;
                for (int t = 0; t < kw; t++)
                {
                    int c = c0 + t * dw;
                    var v = sw == 1 ? Avx.LoadVector256(row + c) : Shuffles.Deinterleave(Avx.LoadVector256(row + c), Avx.LoadVector256(row + c + 8)).Even;
                    Take(ref max, ref best, v, lanes + Vector256.Create(ih * w + c));
                }
            }
            max.Store(outp + ow);
            Avx2.ConvertToVector256Int64(best.GetLower()).Store(outi + ow);
            Avx2.ConvertToVector256Int64(best.GetUpper()).Store(outi + ow + 4);
        }
        return ow;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Take(ref Vector256<float> max, ref Vector256<int> best, Vector256<float> v, Vector256<int> index)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        max = Vector256.ConditionalSelect(take, v, max);
        best = Vector256.ConditionalSelect(take.AsInt32(), index, best);
    }

    /// <summary>
    /// Max pooling values without indices (inference): per output row, the window's input rows are reduced into one
    /// row with vector maxima, then each output takes the maximum of its KW taps of that row. Separable because max
    /// is; NaN propagates as in the reference (v &gt; m or v is NaN replaces m). Ties keep the earlier value, so only the
    /// sign of a zero maximum can differ from the row-major scan when +0 and −0 tie in one window.
    /// </summary>
    public static void MaxPoolValues(ReadOnlySpan<float> x, Span<float> y, Pool2dParams p)
    {
        int H = p.H, W = p.W, OH = p.OutH, OW = p.OutW, KH = p.KH, KW = p.KW, SH = p.StrideH, SW = p.StrideW;
        int PH = p.PadH, PW = p.PadW, DH = p.DilationH, DW = p.DilationW, inPlane = p.InPlane, outPlane = p.OutPlane;
        fixed (float* px = x, py = y)
        {
            nint xs = (nint)px, ys = (nint)py;
            // The reduced row sits PW floats into a buffer that is −∞ around it, so every window reads its taps without
            // clipping (a −∞ tap never replaces the maximum, as a skipped one), and 8 windows at a time read past the end.
            int length = PW + Math.Max(W, (OW + 8) * SW + (KW - 1) * DW) + 16;
            bool simd = Avx2.IsSupported && SW <= 2;
            Parallelism.For(p.Planes, c =>
            {
                var rented = ArrayPool<float>.Shared.Rent(length);
                try
                {
                    fixed (float* buffer = rented)
                    {
                        new Span<float>(buffer, length).Fill(float.NegativeInfinity);
                        float* tmp = buffer + PW;
                        float* plane = (float*)xs + (long)c * inPlane;
                        float* outp = (float*)ys + (long)c * outPlane;
                        for (int oh = 0; oh < OH; oh++)
                        {
                            int h0 = oh * SH - PH, h1 = Math.Min(h0 + (KH - 1) * DH + 1, H);
                            while (h0 < 0) h0 += DH;
                            if (h0 >= h1)
                            {
                                // Dilated taps that all fall in the padding: an empty window, −∞ as in the reference.
                                new Span<float>(outp + oh * OW, OW).Fill(float.NegativeInfinity);
                                continue;
                            }
                            new ReadOnlySpan<float>(plane + (long)h0 * W, W).CopyTo(new Span<float>(tmp, W));
                            for (int ih = h0 + DH; ih < h1; ih += DH) MaxInto(tmp, plane + (long)ih * W, W);
                            float* o = outp + oh * OW;
                            int ow = simd ? WindowMaxima(buffer, o, OW, KW, SW, DW) : 0;
                            for (; ow < OW; ow++)
                            {
                                float m = float.NegativeInfinity;
                                for (int t = 0; t < KW; t++)
                                {
                                    float v = buffer[ow * SW + t * DW];
                                    if (v > m || float.IsNaN(v)) m = v;
                                }
                                o[ow] = m;
                            }
                        }
                    }
                }
                finally { ArrayPool<float>.Shared.Return(rented); }
            });
        }
    }

    /// <summary>
    /// out[ow] = max over t of row[ow·sw + t·dw] for stride 1 or 2, eight outputs per step (the scalar loop's order and
    /// replacement rule); the last step ends at outW, overlapping the one before. Returns the outputs written: all, or
    /// none when the row has fewer than 8.
    /// </summary>
    private static int WindowMaxima(float* row, float* outp, int outW, int kw, int sw, int dw)
    {
        if (outW < 8) return 0;
        for (int o = 0; o < outW; o += 8)
        {
            int ow = Math.Min(o, outW - 8);
            var max = Vector256.Create(float.NegativeInfinity);
            for (int t = 0; t < kw; t++)
            {
                float* at = row + ow * sw + t * dw;
                var v = sw == 1 ? Avx.LoadVector256(at) : Shuffles.Deinterleave(Avx.LoadVector256(at), Avx.LoadVector256(at + 8)).Even;
                max = Vector256.ConditionalSelect(Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v), v, max);
            }
            max.Store(outp + ow);
        }
        return outW;
    }

    /// <summary>acc[i] = src[i] when src[i] &gt; acc[i] or src[i] is NaN (the reference's replacement rule, vectorised).</summary>
    private static void MaxInto(float* acc, float* src, int n)
    {
        int i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var m = Vector256.Load(acc + i);
            var v = Vector256.Load(src + i);
            var take = Vector256.GreaterThan(v, m) | ~Vector256.Equals(v, v);
            Vector256.ConditionalSelect(take, v, m).Store(acc + i);
        }
        for (; i < n; i++)
            if (src[i] > acc[i] || float.IsNaN(src[i])) acc[i] = src[i];
    }

    /// <summary>Routes each output gradient to its max's input position (skipping all-padding windows, see the reference); planes run in parallel.</summary>
    public static void MaxPoolBackward(ReadOnlySpan<float> dy, ReadOnlySpan<long> indices, Span<float> dx, int planes, int inPlane, int outPlane)
    {
        fixed (float* pg = dy, pd = dx)
        fixed (long* pi = indices)
        {
            nint gs = (nint)pg, ds = (nint)pd, ids = (nint)pi;
            Parallelism.For(planes, c =>
            {
                float* g = (float*)gs + (long)c * outPlane;
                float* d = (float*)ds + (long)c * inPlane;
                long* idx = (long*)ids + (long)c * outPlane;
                // Each plane cleared by the thread that scatters into it, not the whole gradient on one core first.
                new Span<float>(d, inPlane).Clear();
                for (int o = 0; o < outPlane; o++)
                    if ((ulong)idx[o] < (ulong)inPlane) d[idx[o]] += g[o];
            });
        }
    }
}
