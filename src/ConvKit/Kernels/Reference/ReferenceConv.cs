using System.Numerics;

namespace ConvKit.Kernels.Reference;

/// <summary>
/// The textbook convolution loops: the oracle every fast kernel is tested against. Generic over the
/// element type so gradient checks can run them in double precision. Never deleted, never optimised.
/// </summary>
internal static class ReferenceConv
{
    /// <summary>Cross-correlation summed over input channels: y[n, co, oh, ow] = b[co] + Σ x·w.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> y, Conv2dParams p)
        where T : INumberBase<T>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup;
        for (int n = 0; n < p.N; n++)
        for (int co = 0; co < p.COut; co++)
        {
            int g = co / cog;
            for (int oh = 0; oh < p.OutH; oh++)
            for (int ow = 0; ow < p.OutW; ow++)
            {
                T acc = T.Zero;
                for (int ci = 0; ci < cig; ci++)
                for (int kh = 0; kh < p.KH; kh++)
                {
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int kw = 0; kw < p.KW; kw++)
                    {
                        int iw = ow * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if (iw < 0 || iw >= p.W) continue;
                        acc += x[((n * p.CIn + g * cig + ci) * p.H + ih) * p.W + iw] * w[((co * cig + ci) * p.KH + kh) * p.KW + kw];
                    }
                }
                if (!bias.IsEmpty) acc += bias[co];
                y[((n * p.COut + co) * p.OutH + oh) * p.OutW + ow] = acc;
            }
        }
    }

    /// <summary>
    /// Transposed convolution as a scatter: each y[n, co, i, j] adds y·w[co, ci] into the input-side image.
    /// This is the adjoint of <see cref="Forward{T}"/>; bias has CIn entries (the channels it produces).
    /// </summary>
    public static void Adjoint<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> x, Conv2dParams p)
        where T : INumberBase<T>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup;
        for (int n = 0; n < p.N; n++)
        for (int c = 0; c < p.CIn; c++)
            x.Slice((n * p.CIn + c) * p.InPlane, p.InPlane).Fill(bias.IsEmpty ? T.Zero : bias[c]);
        for (int n = 0; n < p.N; n++)
        for (int co = 0; co < p.COut; co++)
        {
            int g = co / cog;
            for (int oh = 0; oh < p.OutH; oh++)
            for (int ow = 0; ow < p.OutW; ow++)
            {
                T v = y[((n * p.COut + co) * p.OutH + oh) * p.OutW + ow];
                for (int ci = 0; ci < cig; ci++)
                for (int kh = 0; kh < p.KH; kh++)
                {
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int kw = 0; kw < p.KW; kw++)
                    {
                        int iw = ow * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if (iw < 0 || iw >= p.W) continue;
                        x[((n * p.CIn + g * cig + ci) * p.H + ih) * p.W + iw] += v * w[((co * cig + ci) * p.KH + kh) * p.KW + kw];
                    }
                }
            }
        }
    }

    /// <summary>dW[co, ci, kh, kw] = Σ over n, oh, ow of dy[n, co, oh, ow] · x[n, ci, ih, iw].</summary>
    public static void WeightGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw, Conv2dParams p)
        where T : INumberBase<T>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup;
        for (int co = 0; co < p.COut; co++)
        {
            int g = co / cog;
            for (int ci = 0; ci < cig; ci++)
            for (int kh = 0; kh < p.KH; kh++)
            for (int kw = 0; kw < p.KW; kw++)
            {
                T acc = T.Zero;
                for (int n = 0; n < p.N; n++)
                for (int oh = 0; oh < p.OutH; oh++)
                {
                    int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int ow = 0; ow < p.OutW; ow++)
                    {
                        int iw = ow * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if (iw < 0 || iw >= p.W) continue;
                        acc += dy[((n * p.COut + co) * p.OutH + oh) * p.OutW + ow] * x[((n * p.CIn + g * cig + ci) * p.H + ih) * p.W + iw];
                    }
                }
                dw[((co * cig + ci) * p.KH + kh) * p.KW + kw] = acc;
            }
        }
    }
}
