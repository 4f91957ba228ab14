using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// A run of images' channels of one group, x [n][CIn/g, H, W] (images <see cref="ConvImage.ImageStride"/> floats apart),
/// seen as their im2col matrices side by side, col [CIn/g·KH·KW, n·OutH·OutW], and packed straight into GEMM slivers:
/// the implicit GEMM (as in cuDNN's IMPLICIT_GEMM), which never writes col. Row r = (c·KH + kh)·KW + kw, column
/// j = i·OutH·OutW + oh·OutW + ow, value x_i[c, oh·s − padTop + kh·d, ow·s − padLeft + kw·d] or 0 outside.
/// <para>
/// A sliver of 16 columns inside one output row at stride 1 is two vector loads per row (masked where it overhangs
/// the image's left or right edge), at stride 2 four loads and two shuffles; a row-crossing sliver of a 'same'-width
/// stride-1 conv two masked loads; on AVX-512, other row-crossing slivers at stride 1 or 2 one masked load per run
/// (<see cref="PackRuns512"/>); the rest (larger strides, rows narrower than 8, slivers spanning two images, AVX2)
/// masked AVX2 gathers. Packing from the image reads each input element
/// KH·KW times from L1/L2 instead of streaming a KH·KW-times larger col through memory, which is what limited large
/// planes (64 channels at 128×128: col is 38 MB) and, for small planes, the unfold's short rows.
/// </para>
/// </summary>
internal readonly unsafe struct Im2ColPanel(float* x, Conv2dParams p, int imageStride = 0) : IPanelB
{
    private readonly ConvImage _g = new(x, p, imageStride);

    /// <summary>Exists only as the images: always packed.</summary>
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        // Per row of the block: offset of the tap in the image and its (dh, dw) displacement.
        int* off = stackalloc int[kc];
        int* rowDh = stackalloc int[kc];
        int* rowDw = stackalloc int[kc];
        int* rowKw = stackalloc int[kc];
        int* rowTap = stackalloc int[kc];
        int taps = _g.KH * _g.KW;
        for (int p = 0; p < kc; p++)
        {
            int r = k0 + p, c = r / taps, t = r - c * taps, kh = t / _g.KW, kw = t - kh * _g.KW;
            rowDh[p] = kh * _g.DH;
            rowDw[p] = kw * _g.DW;
            rowKw[p] = kw;
            rowTap[p] = t;
            off[p] = c * _g.H * _g.W + rowDh[p] * _g.W + rowDw[p];
        }
        // Rows of at least 8 make a sliver at most three runs (see PackRuns512), whose masks it keeps per kernel column.
        bool runs512 = simd && Runs512 && Gemm.Isa == GemmIsa.Avx512 && _g.SW <= 2 && _g.OutW >= 8 && _g.KW <= 16;
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr), j = j0 + jr;
            int img = j / _g.Plane, pos = j - img * _g.Plane, oh = pos / _g.OutW, ow = pos - oh * _g.OutW;
            if (!simd) PackScalar(off, rowDh, rowDw, kc, j, nr, dst);
            else if (nr == Gemm.NR && _g.SW <= 2 && ow + Gemm.NR <= _g.OutW)
                PackRow(_g.X + (long)img * _g.ImageStride, off, rowDh, rowDw, kc, oh * _g.SH - _g.PT, ow * _g.SW - _g.PL, dst);
            else if (nr == Gemm.NR && _g.Shifted && pos + Gemm.NR <= _g.Plane)
                PackShifted(_g.X + (long)img * _g.ImageStride + pos - _g.PT * _g.W - _g.PL, off, rowDh, rowDw, rowTap, kc, j, dst);
            else if (runs512 && pos + nr <= _g.Plane) PackRuns512(_g.X + (long)img * _g.ImageStride, off, rowDh, rowKw, kc, pos, nr, dst);
            else PackGather(off, rowDh, rowDw, kc, j, nr, dst);
        }
    }

    /// <summary>16 consecutive columns of one output row at stride 1 or 2: contiguous (or every other element) in every tap's input row.</summary>
    private void PackRow(float* image, int* off, int* rowDh, int* rowDw, int kc, int ih0, int iw0, float* dst)
    {
        float* basePtr = image + (long)ih0 * _g.W + iw0;
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
            Avx.Store(dst, ConvImage.LoadStrided(src, iw, _g.W, _g.SW));
            Avx.Store(dst + 8, ConvImage.LoadStrided(src + 8 * _g.SW, iw + 8 * _g.SW, _g.W, _g.SW));
        }
    }

    /// <summary>
    /// 16 columns of one image that cross output rows, for a stride-1 conv whose output is as wide as its input: then
    /// column j + i reads the input at a fixed offset + i, so each row is two masked loads (lanes whose tap falls outside
    /// the image, wrapped columns included, are masked off) instead of two gathers. <paramref name="origin"/> is the
    /// input address of tap (0, 0) for the sliver's first column.
    /// </summary>
    /// <remarks>
    /// A lane's mask depends only on the row's kernel tap, not on its channel, so the sliver's masks are computed once per
    /// tap (at most <see cref="MaskedTaps"/>) and each row of the panel is two mask loads, two masked loads and two stores.
    /// </remarks>
    [SkipLocalsInit]
    private void PackShifted(float* origin, int* off, int* rowDh, int* rowDw, int* rowTap, int kc, int j, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        int* bases = stackalloc int[Gemm.NR];
        Coordinates(j, Gemm.NR, ihs, iws, bases);
        var ih0 = Avx.LoadVector256(ihs); var ih1 = Avx.LoadVector256(ihs + 8);
        var iw0 = Avx.LoadVector256(iws); var iw1 = Avx.LoadVector256(iws + 8);
        var height = Vector256.Create(_g.H).AsUInt32(); var width = Vector256.Create(_g.W).AsUInt32();
        int taps = _g.KH * _g.KW;
        if (taps <= MaskedTaps && TapMasks)
        {
            var masks = stackalloc Vector256<float>[2 * MaskedTaps];
            for (int t = 0; t < taps; t++)
            {
                int kh = t / _g.KW;
                var dh = Vector256.Create(kh * _g.DH); var dw = Vector256.Create((t - kh * _g.KW) * _g.DW);
                masks[2 * t] = Inside(ih0 + dh, iw0 + dw, height, width);
                masks[2 * t + 1] = Inside(ih1 + dh, iw1 + dw, height, width);
            }
            for (int p = 0; p < kc; p++, dst += Gemm.NR)
            {
                var m = masks + 2 * rowTap[p];
                float* src = origin + off[p];
                Avx.Store(dst, Avx.MaskLoad(src, m[0]));
                Avx.Store(dst + 8, Avx.MaskLoad(src + 8, m[1]));
            }
            return;
        }
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            var dh = Vector256.Create(rowDh[p]); var dw = Vector256.Create(rowDw[p]);
            float* src = origin + off[p];
            Avx.Store(dst, Avx.MaskLoad(src, Inside(ih0 + dh, iw0 + dw, height, width)));
            Avx.Store(dst + 8, Avx.MaskLoad(src + 8, Inside(ih1 + dh, iw1 + dw, height, width)));
        }
    }

    /// <summary>The load mask of lanes at input (ih, iw) inside the [height, width] plane; negative coordinates wrap to large unsigned values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Inside(Vector256<int> ih, Vector256<int> iw, Vector256<uint> height, Vector256<uint> width) =>
        (Vector256.LessThan(ih.AsUInt32(), height) & Vector256.LessThan(iw.AsUInt32(), width)).AsSingle();

    /// <summary>False computes <see cref="PackShifted"/>'s masks per row, for paired A/B measurements. Default true.</summary>
    internal static bool TapMasks = true;

    /// <summary>Kernels of at most this many taps (7×7) get <see cref="PackShifted"/>'s per-tap masks; larger ones compute them per row.</summary>
    private const int MaskedTaps = 49;

    /// <summary>False sends the slivers <see cref="PackRuns512"/> takes to the gathers, for paired A/B measurements. Default true.</summary>
    internal static bool Runs512 = true;

    /// <summary>
    /// Up to 16 columns of one image across output rows at stride 1 or 2, on AVX-512: each run of columns within one
    /// output row is a masked 16-float load of the tap's input row (two loads and a two-source permute picking every
    /// other float at stride 2), blended into the run's lanes; the load's mask zeroes the columns outside the image.
    /// This replaces two 8-lane gathers per row of the panel, which were 12 % of the 3×3/s2 layer (its 14-wide rows make
    /// every sliver cross rows).
    /// </summary>
    [SkipLocalsInit]
    private void PackRuns512(float* image, int* off, int* rowDh, int* rowKw, int kc, int pos, int nr, float* dst)
    {
        const int MaxRuns = 3;
        int* ih0 = stackalloc int[MaxRuns];
        int* base0 = stackalloc int[MaxRuns];
        // Per run and kernel column: the load masks of the run's window (lanes inside the image; at stride 1 only the
        // run's own lanes, so that the masked load merges straight into the sliver; hi, the second window, at stride 2
        // only), and per run its lanes. Rows of at least 8 make at most three runs.
        int kw = _g.KW;
        var lo = stackalloc Vector512<float>[MaxRuns * kw];
        var hi = stackalloc Vector512<float>[MaxRuns * kw];
        var select = stackalloc Vector512<float>[MaxRuns];
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var width = Vector512.Create((uint)_g.W);
        int runs = 0;
        for (int s = 0; s < nr; runs++)
        {
            // Run r: lanes [s, e) in output row oh from column ow; lane l reads input column ws0 + SW·l of tap (0, 0).
            int q = pos + s, oh = q / _g.OutW, ow = q - oh * _g.OutW, e = Math.Min(nr, s + _g.OutW - ow);
            int ws0 = (ow - s) * _g.SW - _g.PL;
            ih0[runs] = oh * _g.SH - _g.PT;
            base0[runs] = ih0[runs] * _g.W + ws0;
            select[runs] = (Vector512.GreaterThanOrEqual(lane, Vector512.Create(s)) & Vector512.LessThan(lane, Vector512.Create(e))).AsSingle();
            for (int t = 0; t < kw; t++)
            {
                var cols = (lane + Vector512.Create(ws0 + t * _g.DW)).AsUInt32();
                lo[runs * kw + t] = Vector512.LessThan(cols, width).AsSingle();
                if (_g.SW == 1) lo[runs * kw + t] &= select[runs];
                else hi[runs * kw + t] = Vector512.LessThan(cols + Vector512.Create(16u), width).AsSingle();
            }
            s = e;
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            var v = Vector512<float>.Zero;
            // off[p] holds the tap's channel, row and column displacement.
            float* tap = image + off[p];
            for (int r = 0, m = rowKw[p]; r < runs; r++, m += kw)
            {
                if ((uint)(ih0[r] + rowDh[p]) >= (uint)_g.H) continue;
                float* src = tap + base0[r];
                if (_g.SW == 1) v = Avx512F.MaskLoad(src, lo[m], v);
                else
                    v = Vector512.ConditionalSelect(select[r], Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(src, lo[m], Vector512<float>.Zero), even,
                                                                                         Avx512F.MaskLoad(src + 16, hi[m], Vector512<float>.Zero)), v);
            }
            Vector512.Store(v, dst);
        }
    }

    /// <summary>Any 16 (or fewer, zero-padded) columns: per-lane input coordinates and masked AVX2 gathers.</summary>
    private void PackGather(int* off, int* rowDh, int* rowDw, int kc, int j, int nr, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        int* bases = stackalloc int[Gemm.NR];
        Coordinates(j, nr, ihs, iws, bases);
        var ih0 = Avx.LoadVector256(ihs); var ih1 = Avx.LoadVector256(ihs + 8);
        var iw0 = Avx.LoadVector256(iws); var iw1 = Avx.LoadVector256(iws + 8);
        var base0 = Avx.LoadVector256(bases); var base1 = Avx.LoadVector256(bases + 8);
        var height = Vector256.Create(_g.H); var width = Vector256.Create(_g.W);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
        {
            var dh = Vector256.Create(rowDh[p]); var dw = Vector256.Create(rowDw[p]);
            var o = Vector256.Create(off[p]);
            Avx.Store(dst, Gather(ih0 + dh, iw0 + dw, base0 + o, height, width));
            Avx.Store(dst + 8, Gather(ih1 + dh, iw1 + dw, base1 + o, height, width));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Gather(Vector256<int> ih, Vector256<int> iw, Vector256<int> index, Vector256<int> height, Vector256<int> width)
    {
        // (uint)v < (uint)limit as one unsigned compare: negative coordinates wrap to large values.
        var inside = Vector256.LessThan(ih.AsUInt32(), height.AsUInt32()) & Vector256.LessThan(iw.AsUInt32(), width.AsUInt32());
        return Avx2.GatherMaskVector256(Vector256<float>.Zero, _g.X, index, inside.AsSingle(), 4);
    }

    /// <summary>
    /// For columns j..j+nr: the input coordinates of tap (0, 0) and the offset of that element from x (image included);
    /// lanes past nr get a row that is always outside.
    /// </summary>
    private void Coordinates(int j, int nr, int* ihs, int* iws, int* bases)
    {
        int img = j / _g.Plane, pos = j - img * _g.Plane, oh = pos / _g.OutW, ow = pos - oh * _g.OutW;
        for (int i = 0; i < Gemm.NR; i++)
        {
            ihs[i] = i < nr ? oh * _g.SH - _g.PT : int.MinValue / 2;
            iws[i] = ow * _g.SW - _g.PL;
            bases[i] = i < nr ? img * _g.ImageStride + ihs[i] * _g.W + iws[i] : 0;
            if (++ow == _g.OutW && ++oh == _g.OutH) { oh = 0; img++; }
            if (ow == _g.OutW) ow = 0;
        }
    }

    private void PackScalar(int* off, int* rowDh, int* rowDw, int kc, int j, int nr, float* dst)
    {
        int* ihs = stackalloc int[Gemm.NR];
        int* iws = stackalloc int[Gemm.NR];
        int* bases = stackalloc int[Gemm.NR];
        Coordinates(j, nr, ihs, iws, bases);
        for (int p = 0; p < kc; p++, dst += Gemm.NR)
            for (int i = 0; i < Gemm.NR; i++)
            {
                int ih = ihs[i] + rowDh[p], iw = iws[i] + rowDw[p];
                dst[i] = (uint)ih < (uint)_g.H && (uint)iw < (uint)_g.W ? _g.X[(long)bases[i] + off[p]] : 0f;
            }
    }
}

/// <summary>
/// The transpose of <see cref="Im2ColPanel"/>: colᵀ [n·OutH·OutW, CIn/g·KH·KW] of a run of images, the B operand of the
/// weight gradient dW_g = dY_g · colᵀ, packed from the images without writing col. Each column of a sliver is one
/// kernel tap of one channel, and its values along k are runs of one input row; at stride 1 or 2, eight positions of
/// eight taps are eight (masked, de-interleaved) row loads and one 8×8 register transpose. Other strides and run
/// remainders go element by element.
/// </summary>
internal readonly unsafe struct Im2ColTransposedPanel(float* x, Conv2dParams p, int imageStride = 0) : IPanelB
{
    private readonly ConvImage _g = new(x, p, imageStride);

    /// <summary>Exists only as the images: always packed.</summary>
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        // Per column of the sliver (one tap of one channel): its plane, and its row and column displacement.
        int* planeOff = stackalloc int[Gemm.NR];
        int* dhs = stackalloc int[Gemm.NR];
        int* shifts = stackalloc int[Gemm.NR];
        int taps = _g.KH * _g.KW;
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            for (int jj = 0; jj < Gemm.NR; jj++)
            {
                int r = j0 + jr + jj, c = r / taps, t = r - c * taps, kh = t / _g.KW, kw = t - kh * _g.KW;
                bool real = jr + jj < nc;
                planeOff[jj] = real ? c * _g.H * _g.W : 0;
                dhs[jj] = real ? kh * _g.DH - _g.PT : int.MinValue / 2; // padding columns read as outside: zeros
                shifts[jj] = kw * _g.DW - _g.PL;
            }
            int img = k0 / _g.Plane, pos = k0 - img * _g.Plane, oh = pos / _g.OutW, ow = pos - oh * _g.OutW;
            for (int q = 0; q < kc;)
            {
                float* image = _g.X + (long)img * _g.ImageStride;
                int run = Math.Min(_g.OutW - ow, kc - q), e = 0;
                if (simd && _g.SW <= 2)
                    for (; e + 8 <= run; e += 8)
                    {
                        Pack8(image, oh, ow + e, planeOff, dhs, shifts, dst + (q + e) * Gemm.NR);
                        Pack8(image, oh, ow + e, planeOff + 8, dhs + 8, shifts + 8, dst + (q + e) * Gemm.NR + 8);
                    }
                for (; e < run; e++)
                {
                    float* d = dst + (q + e) * Gemm.NR;
                    int iw0 = (ow + e) * _g.SW, ih0 = oh * _g.SH;
                    for (int jj = 0; jj < Gemm.NR; jj++)
                    {
                        int ih = ih0 + dhs[jj], iw = iw0 + shifts[jj];
                        d[jj] = (uint)ih < (uint)_g.H && (uint)iw < (uint)_g.W ? image[planeOff[jj] + (long)ih * _g.W + iw] : 0f;
                    }
                }
                q += run;
                ow += run;
                if (ow == _g.OutW && ++oh == _g.OutH) { oh = 0; img++; }
                if (ow == _g.OutW) ow = 0;
            }
        }
    }

    /// <summary>Positions ow..ow+8 of output row oh for eight sliver columns, stored transposed (dst[q·NR + i]).</summary>
    private void Pack8(float* image, int oh, int ow, int* planeOff, int* dhs, int* shifts, float* dst) =>
        Gemm.StoreTransposed(Row(image, oh, ow, planeOff[0], dhs[0], shifts[0]), Row(image, oh, ow, planeOff[1], dhs[1], shifts[1]),
                             Row(image, oh, ow, planeOff[2], dhs[2], shifts[2]), Row(image, oh, ow, planeOff[3], dhs[3], shifts[3]),
                             Row(image, oh, ow, planeOff[4], dhs[4], shifts[4]), Row(image, oh, ow, planeOff[5], dhs[5], shifts[5]),
                             Row(image, oh, ow, planeOff[6], dhs[6], shifts[6]), Row(image, oh, ow, planeOff[7], dhs[7], shifts[7]),
                             dst, Gemm.NR);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Row(float* image, int oh, int ow, int planeOff, int dh, int shift)
    {
        int ih = oh * _g.SH + dh, iw = ow * _g.SW + shift;
        if ((uint)ih >= (uint)_g.H) return Vector256<float>.Zero;
        return ConvImage.LoadStrided(image + planeOff + (long)ih * _g.W + iw, iw, _g.W, _g.SW);
    }
}

/// <summary>
/// A run of images' channels [C, H, W], <see cref="ImageStride"/> floats apart, and the conv geometry a panel needs, in
/// fields so the packing loops read no record properties.
/// </summary>
internal readonly unsafe struct ConvImage(float* x, Conv2dParams p, int imageStride)
{
    public readonly float* X = x;
    public readonly int ImageStride = imageStride, Plane = p.OutPlane;
    public readonly int H = p.H, W = p.W, OutH = p.OutH, OutW = p.OutW, KH = p.KH, KW = p.KW;
    public readonly int SH = p.StrideH, SW = p.StrideW, PT = p.PadTop, PL = p.PadLeft, DH = p.DilationH, DW = p.DilationW;

    /// <summary>Stride 1 and OutW == W: output position j of an image reads input position j + a constant per tap.</summary>
    public readonly bool Shifted = p.StrideH == 1 && p.StrideW == 1 && p.OutW == p.W;

    /// <summary>
    /// The 8 floats at <paramref name="src"/>, which is column <paramref name="iw"/> of a row of <paramref name="width"/>;
    /// lanes outside [0, width) read as 0 through a masked load, which does not fault on the masked-off addresses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadClipped(float* src, int iw, int width)
    {
        if (iw >= 0 && iw + 8 <= width) return Avx.LoadVector256(src);
        var col = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create(iw);
        var inside = Vector256.GreaterThanOrEqual(col, Vector256<int>.Zero) & Vector256.LessThan(col, Vector256.Create(width));
        return Avx.MaskLoad(src, inside.AsSingle());
    }

    /// <summary>
    /// Columns iw, iw + s, …, iw + 7s of a row for stride s of 1 or 2 (0 outside [0, width)): at stride 2, two clipped loads
    /// and an even-lane shuffle, far cheaper than a gather.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadStrided(float* src, int iw, int width, int stride)
    {
        if (stride == 1) return LoadClipped(src, iw, width);
        return Shuffles.Deinterleave(LoadClipped(src, iw, width), LoadClipped(src + 8, iw + 8, width)).Even;
    }
}
