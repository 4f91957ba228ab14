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
    private static (int Lo, int Hi) ValidRange(int outSize, int size, int stride, int pad, int tapOffset)
    {
        // Need 0 <= o·stride − pad + tapOffset < size.
        int start = pad - tapOffset;
        int lo = start <= 0 ? 0 : (start + stride - 1) / stride;
        int lastNum = size - 1 + pad - tapOffset;
        int hi = lastNum < 0 ? 0 : lastNum / stride + 1;
        return (Math.Min(lo, outSize), Math.Min(Math.Max(hi, 0), outSize));
    }

    /// <summary>Fills col [channels·KH·KW, OutH·OutW] from x [channels, H, W].</summary>
    public static void Unfold(ReadOnlySpan<float> x, Span<float> col, int channels, Conv2dParams p)
    {
        int plane = p.OutPlane;
        for (int c = 0; c < channels; c++)
        for (int kh = 0; kh < p.KH; kh++)
        {
            var (ohLo, ohHi) = ValidRange(p.OutH, p.H, p.StrideH, p.PadTop, kh * p.DilationH);
            for (int kw = 0; kw < p.KW; kw++)
            {
                var (owLo, owHi) = ValidRange(p.OutW, p.W, p.StrideW, p.PadLeft, kw * p.DilationW);
                var row = col.Slice(((c * p.KH + kh) * p.KW + kw) * plane, plane);
                if (ohLo >= ohHi || owLo >= owHi) { row.Clear(); continue; }
                row[..(ohLo * p.OutW)].Clear();
                row[(ohHi * p.OutW)..].Clear();
                for (int oh = ohLo; oh < ohHi; oh++)
                {
                    var dst = row.Slice(oh * p.OutW, p.OutW);
                    dst[..owLo].Clear();
                    dst[owHi..].Clear();
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    int iw0 = owLo * p.StrideW - p.PadLeft + kw * p.DilationW;
                    var src = x.Slice((c * p.H + ih) * p.W);
                    if (p.StrideW == 1) src.Slice(iw0, owHi - owLo).CopyTo(dst[owLo..owHi]);
                    else for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += p.StrideW) dst[ow] = src[iw];
                }
            }
        }
    }

    /// <summary>Adds col [channels·KH·KW, OutH·OutW] back into x [channels, H, W] (the adjoint of <see cref="Unfold"/>).</summary>
    public static void FoldAdd(ReadOnlySpan<float> col, Span<float> x, int channels, Conv2dParams p)
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
                var row = col.Slice(((c * p.KH + kh) * p.KW + kw) * plane, plane);
                for (int oh = ohLo; oh < ohHi; oh++)
                {
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    int iw0 = owLo * p.StrideW - p.PadLeft + kw * p.DilationW;
                    var dst = x.Slice((c * p.H + ih) * p.W);
                    var src = row.Slice(oh * p.OutW);
                    if (p.StrideW == 1)
                        System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(iw0, owHi - owLo), src[owLo..owHi], dst.Slice(iw0, owHi - owLo));
                    else for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += p.StrideW) dst[iw] += src[ow];
                }
            }
        }
    }
}
