using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// im2col / col2im for one image and a run of channels: col[(c·KH + kh)·KW + kw, oh·OutW + ow] holds
/// x[c, oh·s − pad + kh·d, ow·s − pad + kw·d] (0 outside). Valid output columns are computed once per
/// kernel tap, so the inner loop is a plain copy for stride 1 and has no bounds tests.
/// Also the kernel of F.Unfold / F.Fold.
/// </summary>
internal static class Im2Col
{
    /// <summary>Half-open range of output positions whose tap lands inside [0, size).</summary>
    internal static (int Lo, int Hi) ValidRange(int outSize, int size, int stride, int pad, int tapOffset)
    {
        // Need 0 <= o·stride − pad + tapOffset < size.
        int start = pad - tapOffset;
        int lo = start <= 0 ? 0 : (start + stride - 1) / stride;
        int lastNum = size - 1 + pad - tapOffset;
        int hi = lastNum < 0 ? 0 : lastNum / stride + 1;
        return (Math.Min(lo, outSize), Math.Min(Math.Max(hi, 0), outSize));
    }

    /// <summary>
    /// Fills col [channels·KH·KW, OutH·OutW] from x [channels, H, W]; consecutive rows of col lie
    /// <paramref name="rowStride"/> apart (OutH·OutW when col holds one image, more when images sit side by side).
    /// </summary>
    public static void Unfold(ReadOnlySpan<float> x, Span<float> col, int channels, Conv2dParams p, int rowStride)
    {
        int plane = p.OutPlane;
        // Stride 1 with unchanged width: a whole im2col row is the input plane shifted by one offset, so it is
        // one block copy plus zeroing of the columns that wrapped around and the rows that fell off.
        bool shifted = p.StrideH == 1 && p.StrideW == 1 && p.OutW == p.W;
        for (int c = 0; c < channels; c++)
        for (int kh = 0; kh < p.KH; kh++)
        {
            var (ohLo, ohHi) = ValidRange(p.OutH, p.H, p.StrideH, p.PadTop, kh * p.DilationH);
            for (int kw = 0; kw < p.KW; kw++)
            {
                var (owLo, owHi) = ValidRange(p.OutW, p.W, p.StrideW, p.PadLeft, kw * p.DilationW);
                var row = col.Slice(((c * p.KH + kh) * p.KW + kw) * rowStride, plane);
                if (ohLo >= ohHi || owLo >= owHi) { row.Clear(); continue; }
                row[..(ohLo * p.OutW)].Clear();
                row[(ohHi * p.OutW)..].Clear();
                int ih0 = ohLo * p.StrideH - p.PadTop + kh * p.DilationH;
                int shift = kw * p.DilationW - p.PadLeft;
                var src = x.Slice(c * p.InPlane);
                if (shifted)
                {
                    int start = ih0 * p.W + shift, count = (ohHi - ohLo) * p.OutW;
                    int from = Math.Max(start, 0), skip = from - start;
                    int avail = Math.Min(count - skip, p.InPlane - from);
                    var dst = row.Slice(ohLo * p.OutW, count);
                    dst[..skip].Clear();
                    src.Slice(from, avail).CopyTo(dst.Slice(skip, avail));
                    dst[(skip + avail)..].Clear();
                    if (owLo > 0 || owHi < p.OutW)
                        for (int oh = 0; oh < ohHi - ohLo; oh++)
                        {
                            var r = dst.Slice(oh * p.OutW, p.OutW);
                            ZeroFew(r[..owLo]);
                            ZeroFew(r[owHi..]);
                        }
                    continue;
                }
                for (int oh = ohLo; oh < ohHi; oh++)
                {
                    var dst = row.Slice(oh * p.OutW, p.OutW);
                    ZeroFew(dst[..owLo]);
                    ZeroFew(dst[owHi..]);
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    int iw0 = owLo * p.StrideW + shift;
                    var srow = src.Slice(ih * p.W);
                    if (p.StrideW == 1) srow.Slice(iw0, owHi - owLo).CopyTo(dst[owLo..owHi]);
                    else for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += p.StrideW) dst[ow] = srow[iw];
                }
            }
        }
    }

    /// <summary>
    /// Zeroes the padding columns of one output row: usually one to three floats, where a loop beats the call into
    /// Span.Clear (that call was 7 % of a small-UNet training step in a profile).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ZeroFew(Span<float> span)
    {
        if (span.Length > 8) { span.Clear(); return; }
        for (int i = 0; i < span.Length; i++) span[i] = 0;
    }

    /// <summary>Adds col [channels·KH·KW, OutH·OutW] (rows <paramref name="rowStride"/> apart) back into x [channels, H, W]: the adjoint of <see cref="Unfold"/>.</summary>
    public static void FoldAdd(ReadOnlySpan<float> col, Span<float> x, int channels, Conv2dParams p, int rowStride)
    {
        int plane = p.OutPlane;
        for (int c = 0; c < channels; c++)
        for (int kh = 0; kh < p.KH; kh++)
        {
            var (ohLo, ohHi) = ValidRange(p.OutH, p.H, p.StrideH, p.PadTop, kh * p.DilationH);
            for (int kw = 0; kw < p.KW; kw++)
            {
                var (owLo, owHi) = ValidRange(p.OutW, p.W, p.StrideW, p.PadLeft, kw * p.DilationW);
                if (ohLo >= ohHi || owLo >= owHi) continue;
                var row = col.Slice(((c * p.KH + kh) * p.KW + kw) * rowStride, plane);
                for (int oh = ohLo; oh < ohHi; oh++)
                {
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    int iw0 = owLo * p.StrideW - p.PadLeft + kw * p.DilationW;
                    var dst = x.Slice((c * p.H + ih) * p.W);
                    var src = row.Slice(oh * p.OutW);
                    if (p.StrideW == 1)
                        System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(iw0, owHi - owLo), src[owLo..owHi], dst.Slice(iw0, owHi - owLo));
                    else if (p.StrideW == 2 && Avx.IsSupported)
                        AddEveryOther(dst.Slice(iw0), src[owLo..owHi]);
                    else for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += p.StrideW) dst[iw] += src[ow];
                }
            }
        }
    }

    /// <summary>
    /// dst[2t] += src[t] for t &lt; src.Length: eight at a time by de-interleaving 16 floats of dst, adding to the even
    /// lanes and interleaving back (the odd lanes are stored unchanged), while the 16 floats lie inside dst.
    /// </summary>
    private static unsafe void AddEveryOther(Span<float> dst, ReadOnlySpan<float> src)
    {
        int t = 0, n = src.Length;
        fixed (float* d = dst, s = src)
        {
            for (; t + 8 <= n && 2 * t + 16 <= dst.Length; t += 8)
            {
                float* at = d + 2 * t;
                var (even, odd) = Shuffles.Deinterleave(Avx.LoadVector256(at), Avx.LoadVector256(at + 8));
                var (lo, hi) = Shuffles.Interleave(Avx.Add(even, Avx.LoadVector256(s + t)), odd);
                Avx.Store(at, lo);
                Avx.Store(at + 8, hi);
            }
            for (; t < n; t++) d[2 * t] += s[t];
        }
    }

    /// <summary>
    /// True for a 1×1, unpadded, strided kernel (ResNet's downsampling convs): each x element receives at most one col
    /// element, at rows and columns that are multiples of the stride, so the fold can write x once, zeros included,
    /// instead of clearing it and adding.
    /// </summary>
    public static bool Spreads(Conv2dParams p) =>
        p.KH == 1 && p.KW == 1 && (p.StrideH > 1 || p.StrideW > 1) && p.PadTop == 0 && p.PadLeft == 0;

    /// <summary>
    /// x [channels, H, W] = col [channels, OutH·OutW] (rows <paramref name="rowStride"/> apart) at (oh·s, ow·t) and 0
    /// elsewhere, for a geometry that <see cref="Spreads"/>.
    /// </summary>
    public static unsafe void Spread(ReadOnlySpan<float> col, Span<float> x, int channels, Conv2dParams p, int rowStride)
    {
        int s = p.StrideH, t = p.StrideW;
        if (col.Length < (long)(channels - 1) * rowStride + p.OutPlane || x.Length < (long)channels * p.InPlane)
            throw new ArgumentException("internal: Spread's col or x is too short");
        fixed (float* pc = col, px = x)
            for (int c = 0; c < channels; c++)
            for (int ih = 0; ih < p.H; ih++)
            {
                float* row = px + ((long)c * p.H + ih) * p.W;
                int oh = ih / s;
                if (ih % s != 0 || oh >= p.OutH)
                {
                    new Span<float>(row, p.W).Clear();
                    continue;
                }
                float* src = pc + (long)c * rowStride + (long)oh * p.OutW;
                // Outputs past the right edge read padding (an implied right pad): nothing of theirs lands in x.
                int ow = 0, owEnd = Math.Min(p.OutW, (p.W + t - 1) / t);
                // Stride 2: eight values and eight zeros interleaved per step.
                if (t == 2 && Avx.IsSupported)
                    for (; ow + 8 <= owEnd && 2 * ow + 16 <= p.W; ow += 8)
                    {
                        var (lo, hi) = Shuffles.Interleave(Avx.LoadVector256(src + ow), Vector256<float>.Zero);
                        Avx.Store(row + 2 * ow, lo);
                        Avx.Store(row + 2 * ow + 8, hi);
                    }
                new Span<float>(row + (long)ow * t, p.W - ow * t).Clear();
                for (; ow < owEnd; ow++) row[(long)ow * t] = src[ow];
            }
    }

    /// <summary>True when the kernel tiles the input exactly: kernel == stride, no padding or dilation, H = OutH·KH, W = OutW·KW.</summary>
    public static bool Tiles(Conv2dParams p) =>
        p.KH == p.StrideH && p.KW == p.StrideW && p.PadTop == 0 && p.PadLeft == 0 && p.DilationH == 1 && p.DilationW == 1 &&
        p.H == p.OutH * p.KH && p.W == p.OutW * p.KW;

    /// <summary><see cref="FoldAdd"/> for a geometry that <see cref="Tiles"/>: each x element is written once, from one col element.</summary>
    public static void Scatter(ReadOnlySpan<float> col, Span<float> x, int channels, Conv2dParams p)
    {
        int plane = p.OutPlane;
        for (int c = 0; c < channels; c++)
        for (int kh = 0; kh < p.KH; kh++)
        for (int kw = 0; kw < p.KW; kw++)
        {
            var row = col.Slice(((c * p.KH + kh) * p.KW + kw) * plane, plane);
            for (int oh = 0; oh < p.OutH; oh++)
            {
                var dst = x.Slice((c * p.H + oh * p.KH + kh) * p.W + kw);
                var src = row.Slice(oh * p.OutW, p.OutW);
                for (int ow = 0; ow < src.Length; ow++) dst[ow * p.KW] = src[ow];
            }
        }
    }

    /// <summary>Kernels this wide (undilated) fold faster from colᵀ: a kernel row is then a contiguous run of x.</summary>
    public static bool FoldsTransposed(Conv2dParams p) => p.KW >= 16 && p.DilationW == 1;

    /// <summary>
    /// <see cref="FoldAdd"/> from colᵀ [OutH·OutW, channels·KH·KW]: for each output position, channel and kernel row, the
    /// KW taps are adjacent in colᵀ and land on adjacent input columns, so each is one vector add. Channels run in parallel.
    /// </summary>
    public static unsafe void FoldAddTransposed(ReadOnlySpan<float> colT, Span<float> x, int channels, Conv2dParams p)
    {
        int rows = channels * p.KH * p.KW;
        fixed (float* pc = colT, px = x)
        {
            nint cs = (nint)pc, xs = (nint)px;
            Parallelism.For(channels, c =>
            {
                for (int q = 0; q < p.OutPlane; q++)
                {
                    int oh = q / p.OutW, ow = q - oh * p.OutW;
                    int iw0 = ow * p.StrideW - p.PadLeft, kwLo = Math.Max(0, -iw0), kwHi = Math.Min(p.KW, p.W - iw0);
                    if (kwLo >= kwHi) continue;
                    float* src = (float*)cs + (long)q * rows + c * p.KH * p.KW;
                    for (int kh = 0; kh < p.KH; kh++)
                    {
                        int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                        if ((uint)ih >= (uint)p.H) continue;
                        var dst = new Span<float>((float*)xs + ((long)c * p.H + ih) * p.W + iw0 + kwLo, kwHi - kwLo);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, new ReadOnlySpan<float>(src + kh * p.KW + kwLo, kwHi - kwLo), dst);
                    }
                }
            });
        }
    }
}
