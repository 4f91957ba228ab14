using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// One image's channels of one group, x [CIn/g, H, W], seen as its im2col matrix col [CIn/g·KH·KW, OutH·OutW] and
/// packed straight into GEMM slivers: the implicit GEMM (as in cuDNN's IMPLICIT_GEMM and oneDNN's gemm-free
/// convolution), which never writes col. Row r = (c·KH + kh)·KW + kw, column j = oh·OutW + ow, value
/// x[c, oh·s − padTop + kh·d, ow·s − padLeft + kw·d] or 0 outside.
/// <para>
/// A sliver of 16 columns inside one output row at stride 1 is two vector loads per row (masked where it overhangs
/// the image's left or right edge); other slivers (row-crossing, strided, ragged) use masked AVX2 gathers. Packing
/// from the image reads each input element KH·KW times from L1/L2 instead of streaming a KH·KW-times larger col
/// through memory, which is what limited large planes (64 channels at 128×128: col is 38 MB).
/// </para>
/// </summary>
internal readonly unsafe struct Im2ColPanel(float* x, Conv2dParams p) : IPanelB
{
    private readonly ConvImage _g = new(x, p);

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        // Per row of the block: offset of the tap in the image and its (dh, dw) displacement.
        int* off = stackalloc int[kc];
        int* rowDh = stackalloc int[kc];
        int* rowDw = stackalloc int[kc];
        int taps = _g.KH * _g.KW;
        for (int p = 0; p < kc; p++)
        {
            int r = k0 + p, c = r / taps, t = r - c * taps, kh = t / _g.KW, kw = t - kh * _g.KW;
            rowDh[p] = kh * _g.DH;
            rowDw[p] = kw * _g.DW;
            off[p] = c * _g.H * _g.W + rowDh[p] * _g.W + rowDw[p];
        }
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr), j = j0 + jr;
            int oh = j / _g.OutW, ow = j - oh * _g.OutW;
            if (!simd) PackScalar(off, rowDh, rowDw, kc, j, nr, dst);
            else if (nr == Gemm.NR && _g.SW == 1 && ow + Gemm.NR <= _g.OutW) PackRow(off, rowDh, rowDw, kc, oh * _g.SH - _g.PT, ow - _g.PL, dst);
            else PackGather(off, rowDh, rowDw, kc, j, nr, dst);
        }
    }

    /// <summary>16 consecutive columns of one output row at stride 1: contiguous in every tap's input row.</summary>
    private void PackRow(int* off, int* rowDh, int* rowDw, int kc, int ih0, int iw0, float* dst)
    {
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var width = Vector256.Create(_g.W);
        float* basePtr = _g.X + (long)ih0 * _g.W + iw0;
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            int ih = ih0 + rowDh[p], iw = iw0 + rowDw[p];
            if ((uint)ih >= (uint)_g.H)
            {
                Avx.Store(dst, Vector256<float>.Zero);
                Avx.Store(dst + 8, Vector256<float>.Zero);
                continue;
            }
            float* src = basePtr + off[p];
            if (iw >= 0 && iw + Gemm.NR <= _g.W)
            {
                Avx.Store(dst, Avx.LoadVector256(src));
                Avx.Store(dst + 8, Avx.LoadVector256(src + 8));
                continue;
            }
            // Overhangs the left or right edge: lanes outside [0, W) are masked off (masked loads do not fault there).
            var col0 = lane + Vector256.Create(iw);
            var col1 = col0 + Vector256.Create(8);
            var m0 = Vector256.GreaterThanOrEqual(col0, Vector256<int>.Zero) & Vector256.LessThan(col0, width);
            var m1 = Vector256.GreaterThanOrEqual(col1, Vector256<int>.Zero) & Vector256.LessThan(col1, width);
            Avx.Store(dst, Avx.MaskLoad(src, m0.AsSingle()));
            Avx.Store(dst + 8, Avx.MaskLoad(src + 8, m1.AsSingle()));
        }
    }

    /// <summary>Any 16 (or fewer, zero-padded) columns: per-lane input coordinates and masked AVX2 gathers.</summary>
    private void PackGather(int* off, int* rowDh, int* rowDw, int kc, int j, int nr, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        Coordinates(j, nr, ihs, iws);
        var ih0 = Avx.LoadVector256(ihs); var ih1 = Avx.LoadVector256(ihs + 8);
        var iw0 = Avx.LoadVector256(iws); var iw1 = Avx.LoadVector256(iws + 8);
        var w = Vector256.Create(_g.W);
        var base0 = ih0 * w + iw0; var base1 = ih1 * w + iw1;
        var height = Vector256.Create(_g.H);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            var dh = Vector256.Create(rowDh[p]); var dw = Vector256.Create(rowDw[p]);
            var o = Vector256.Create(off[p] - rowDh[p] * _g.W - rowDw[p]);
            Avx.Store(dst, Gather(ih0 + dh, iw0 + dw, base0 + dh * w + dw + o, height, w));
            Avx.Store(dst + 8, Gather(ih1 + dh, iw1 + dw, base1 + dh * w + dw + o, height, w));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Gather(Vector256<int> ih, Vector256<int> iw, Vector256<int> index, Vector256<int> height, Vector256<int> width)
    {
        // (uint)v < (uint)limit as one unsigned compare: negative coordinates wrap to large values.
        var inside = Vector256.LessThan(ih.AsUInt32(), height.AsUInt32()) & Vector256.LessThan(iw.AsUInt32(), width.AsUInt32());
        return Avx2.GatherMaskVector256(Vector256<float>.Zero, _g.X, index, inside.AsSingle(), 4);
    }

    /// <summary>Input coordinates of tap (0, 0) for columns j..j+nr; lanes past nr get a row that is always outside.</summary>
    private void Coordinates(int j, int nr, int* ihs, int* iws)
    {
        int oh = j / _g.OutW, ow = j - oh * _g.OutW;
        for (int i = 0; i < Gemm.NR; i++)
        {
            ihs[i] = i < nr ? oh * _g.SH - _g.PT : int.MinValue / 2;
            iws[i] = ow * _g.SW - _g.PL;
            if (++ow == _g.OutW) { ow = 0; oh++; }
        }
    }

    private void PackScalar(int* off, int* rowDh, int* rowDw, int kc, int j, int nr, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        Coordinates(j, nr, ihs, iws);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            long o = off[p] - (long)rowDh[p] * _g.W - rowDw[p];
            for (int i = 0; i < Gemm.NR; i++)
            {
                int ih = ihs[i] + rowDh[p], iw = iws[i] + rowDw[p];
                dst[i] = (uint)ih < (uint)_g.H && (uint)iw < (uint)_g.W ? _g.X[o + (long)ih * _g.W + iw] : 0f;
            }
        }
    }
}

/// <summary>
/// The transpose of <see cref="Im2ColPanel"/>: colᵀ [OutH·OutW, CIn/g·KH·KW] of one image, the B operand of the weight
/// gradient dW_g = dY_g · colᵀ, packed from the image without writing col. Each column of a sliver is one kernel tap
/// of one channel; its values along k are runs of one input row (strided by the conv's stride), so the copy works per
/// run with the bounds decided once per run.
/// </summary>
internal readonly unsafe struct Im2ColTransposedPanel(float* x, Conv2dParams p) : IPanelB
{
    private readonly ConvImage _g = new(x, p);

    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        int taps = _g.KH * _g.KW;
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        for (int jj = 0; jj < Gemm.NR; jj++)
        {
            float* d = dst + jj;
            if (jr + jj >= nc)
            {
                for (int q = 0; q < kc; q++) d[q * Gemm.NR] = 0f;
                continue;
            }
            int r = j0 + jr + jj, c = r / taps, t = r - c * taps, kh = t / _g.KW, kw = t - kh * _g.KW;
            float* plane = _g.X + (long)c * _g.H * _g.W;
            int oh = k0 / _g.OutW, ow = k0 - oh * _g.OutW;
            for (int q = 0; q < kc;)
            {
                int run = Math.Min(_g.OutW - ow, kc - q);
                int ih = oh * _g.SH - _g.PT + kh * _g.DH;
                if ((uint)ih >= (uint)_g.H)
                    for (int e = 0; e < run; e++) d[(q + e) * Gemm.NR] = 0f;
                else
                {
                    // Output columns ow..ow+run map to iw = ow·s − pad + kw·d; only [lo, hi) of them land inside the row.
                    int shift = kw * _g.DW - _g.PL;
                    var (lo, hi) = Im2Col.ValidRange(ow + run, _g.W, _g.SW, _g.PL, kw * _g.DW);
                    lo = Math.Max(lo, ow);
                    hi = Math.Max(hi, lo);
                    float* row = plane + (long)ih * _g.W;
                    int e = 0;
                    for (; e < lo - ow; e++) d[(q + e) * Gemm.NR] = 0f;
                    for (int iw = lo * _g.SW + shift; e < hi - ow; e++, iw += _g.SW) d[(q + e) * Gemm.NR] = row[iw];
                    for (; e < run; e++) d[(q + e) * Gemm.NR] = 0f;
                }
                q += run;
                ow += run;
                if (ow == _g.OutW) { ow = 0; oh++; }
            }
        }
    }
}

/// <summary>One image's channels [C, H, W] and the conv geometry a panel needs, in fields so the packing loops read no record properties.</summary>
internal readonly unsafe struct ConvImage(float* x, Conv2dParams p)
{
    public readonly float* X = x;
    public readonly int H = p.H, W = p.W, OutW = p.OutW, KH = p.KH, KW = p.KW;
    public readonly int SH = p.StrideH, SW = p.StrideW, PT = p.PadTop, PL = p.PadLeft, DH = p.DilationH, DW = p.DilationW;
}
