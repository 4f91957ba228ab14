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
internal readonly unsafe struct Im2ColPanel : IPanelB
{
    private readonly float* _x;
    private readonly int _h, _w, _outW, _kh, _kw, _sh, _sw, _pt, _pl, _dh, _dw;

    public Im2ColPanel(float* x, Conv2dParams p)
    {
        _x = x;
        (_h, _w, _outW, _kh, _kw) = (p.H, p.W, p.OutW, p.KH, p.KW);
        (_sh, _sw, _pt, _pl, _dh, _dw) = (p.StrideH, p.StrideW, p.PadTop, p.PadLeft, p.DilationH, p.DilationW);
    }

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        // Per row of the block: offset of the tap in the image and its (dh, dw) displacement.
        int* off = stackalloc int[kc];
        int* rowDh = stackalloc int[kc];
        int* rowDw = stackalloc int[kc];
        int taps = _kh * _kw;
        for (int p = 0; p < kc; p++)
        {
            int r = k0 + p, c = r / taps, t = r - c * taps, kh = t / _kw, kw = t - kh * _kw;
            rowDh[p] = kh * _dh;
            rowDw[p] = kw * _dw;
            off[p] = c * _h * _w + rowDh[p] * _w + rowDw[p];
        }
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr), j = j0 + jr;
            int oh = j / _outW, ow = j - oh * _outW;
            if (!simd) PackScalar(off, rowDh, rowDw, kc, j, nr, dst);
            else if (nr == Gemm.NR && _sw == 1 && ow + Gemm.NR <= _outW) PackRow(off, rowDh, rowDw, kc, oh * _sh - _pt, ow - _pl, dst);
            else PackGather(off, rowDh, rowDw, kc, j, nr, dst);
        }
    }

    /// <summary>16 consecutive columns of one output row at stride 1: contiguous in every tap's input row.</summary>
    private void PackRow(int* off, int* rowDh, int* rowDw, int kc, int ih0, int iw0, float* dst)
    {
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var width = Vector256.Create(_w);
        float* basePtr = _x + (long)ih0 * _w + iw0;
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            int ih = ih0 + rowDh[p], iw = iw0 + rowDw[p];
            if ((uint)ih >= (uint)_h)
            {
                Avx.Store(dst, Vector256<float>.Zero);
                Avx.Store(dst + 8, Vector256<float>.Zero);
                continue;
            }
            float* src = basePtr + off[p];
            if (iw >= 0 && iw + Gemm.NR <= _w)
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
        var w = Vector256.Create(_w);
        var base0 = ih0 * w + iw0; var base1 = ih1 * w + iw1;
        var height = Vector256.Create(_h);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            var dh = Vector256.Create(rowDh[p]); var dw = Vector256.Create(rowDw[p]);
            var o = Vector256.Create(off[p] - rowDh[p] * _w - rowDw[p]);
            Avx.Store(dst, Gather(ih0 + dh, iw0 + dw, base0 + dh * w + dw + o, height, w));
            Avx.Store(dst + 8, Gather(ih1 + dh, iw1 + dw, base1 + dh * w + dw + o, height, w));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Gather(Vector256<int> ih, Vector256<int> iw, Vector256<int> index, Vector256<int> height, Vector256<int> width)
    {
        // (uint)v < (uint)limit as one unsigned compare: negative coordinates wrap to large values.
        var inside = Vector256.LessThan(ih.AsUInt32(), height.AsUInt32()) & Vector256.LessThan(iw.AsUInt32(), width.AsUInt32());
        return Avx2.GatherMaskVector256(Vector256<float>.Zero, _x, index, inside.AsSingle(), 4);
    }

    /// <summary>Input coordinates of tap (0, 0) for columns j..j+nr; lanes past nr get a row that is always outside.</summary>
    private void Coordinates(int j, int nr, int* ihs, int* iws)
    {
        int oh = j / _outW, ow = j - oh * _outW;
        for (int i = 0; i < Gemm.NR; i++)
        {
            ihs[i] = i < nr ? oh * _sh - _pt : int.MinValue / 2;
            iws[i] = ow * _sw - _pl;
            if (++ow == _outW) { ow = 0; oh++; }
        }
    }

    private void PackScalar(int* off, int* rowDh, int* rowDw, int kc, int j, int nr, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        Coordinates(j, nr, ihs, iws);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            long o = off[p] - (long)rowDh[p] * _w - rowDw[p];
            for (int i = 0; i < Gemm.NR; i++)
            {
                int ih = ihs[i] + rowDh[p], iw = iws[i] + rowDw[p];
                dst[i] = (uint)ih < (uint)_h && (uint)iw < (uint)_w ? _x[o + (long)ih * _w + iw] : 0f;
            }
        }
    }
}
