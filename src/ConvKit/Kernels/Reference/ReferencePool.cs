using System.Numerics;

namespace ConvKit.Kernels.Reference;

/// <summary>Geometry of a 2-D pooling over Planes = N·C independent planes.</summary>
internal sealed record Pool2dParams(int Planes, int H, int W, int KH, int KW, int StrideH, int StrideW,
                                    int PadH, int PadW, int DilationH, int DilationW, int OutH, int OutW)
{
    public int InPlane => H * W;
    public int OutPlane => OutH * OutW;
}

/// <summary>
/// Pooling loops, following ATen's CPU kernels exactly (window clipping, divisor rules, NaN-propagating
/// max with the first maximal index). Generic so gradient checks can run them in double.
/// </summary>
internal static class ReferencePool
{
    public static void MaxPool<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, Pool2dParams p) where T : INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        for (int c = 0; c < p.Planes; c++)
        {
            var plane = x.Slice(c * p.InPlane, p.InPlane);
            for (int oh = 0; oh < p.OutH; oh++)
            for (int ow = 0; ow < p.OutW; ow++)
            {
                int h0 = oh * p.StrideH - p.PadH, w0 = ow * p.StrideW - p.PadW;
                int h1 = Math.Min(h0 + (p.KH - 1) * p.DilationH + 1, p.H), w1 = Math.Min(w0 + (p.KW - 1) * p.DilationW + 1, p.W);
                while (h0 < 0) h0 += p.DilationH;
                while (w0 < 0) w0 += p.DilationW;
                var (v, k) = MaxOver(plane, p.W, h0, h1, p.DilationH, w0, w1, p.DilationW);
                int o = c * p.OutPlane + oh * p.OutW + ow;
                y[o] = v;
                indices[o] = k;
            }
        }
    }

    /// <summary>The maximum of a strided window and its flat index in the plane; NaN wins, ties keep the first.</summary>
    private static (T, long) MaxOver<T>(ReadOnlySpan<T> plane, int width, int h0, int h1, int dh, int w0, int w1, int dw)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        long best = (long)h0 * width + w0;
        T max = T.CreateChecked(double.NegativeInfinity);
        for (int ih = h0; ih < h1; ih += dh)
        for (int iw = w0; iw < w1; iw += dw)
        {
            T v = plane[ih * width + iw];
            if (v > max || T.IsNaN(v)) { max = v; best = (long)ih * width + iw; }
        }
        return (max, best);
    }

    /// <summary>
    /// Routes each output gradient to the input position its max came from (max and adaptive max). A window
    /// lying wholly in the padding (possible with dilation) has output −∞ and, as in PyTorch, an index past the
    /// plane; it has no input to receive a gradient and is skipped.
    /// </summary>
    public static void MaxPoolBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<long> indices, Span<T> dx, int planes, int inPlane, int outPlane)
        where T : INumberBase<T>
    {
        dx.Clear();
        for (int c = 0; c < planes; c++)
        for (int o = 0; o < outPlane; o++)
        {
            long k = indices[c * outPlane + o];
            if ((ulong)k < (ulong)inPlane) dx[c * inPlane + (int)k] += dy[c * outPlane + o];
        }
    }

    /// <summary>The clipped window of one average-pool output and its divisor, as ATen computes them.</summary>
    private static (int H0, int H1, int W0, int W1, int Divisor) AvgWindow(Pool2dParams p, int oh, int ow, bool countIncludePad, int? divisorOverride)
    {
        int h0 = oh * p.StrideH - p.PadH, w0 = ow * p.StrideW - p.PadW;
        int h1 = Math.Min(h0 + p.KH, p.H + p.PadH), w1 = Math.Min(w0 + p.KW, p.W + p.PadW);
        int poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, p.H); w1 = Math.Min(w1, p.W);
        int divisor = divisorOverride ?? (countIncludePad ? poolSize : (h1 - h0) * (w1 - w0));
        return (h0, h1, w0, w1, divisor);
    }

    public static void AvgPool<T>(ReadOnlySpan<T> x, Span<T> y, Pool2dParams p, bool countIncludePad, int? divisorOverride) where T : INumberBase<T>
    {
        for (int c = 0; c < p.Planes; c++)
        for (int oh = 0; oh < p.OutH; oh++)
        for (int ow = 0; ow < p.OutW; ow++)
        {
            var (h0, h1, w0, w1, div) = AvgWindow(p, oh, ow, countIncludePad, divisorOverride);
            T sum = T.Zero;
            for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
                sum += x[c * p.InPlane + ih * p.W + iw];
            y[c * p.OutPlane + oh * p.OutW + ow] = h0 >= h1 || w0 >= w1 ? T.Zero : sum / T.CreateChecked(div);
        }
    }

    public static void AvgPoolBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, Pool2dParams p, bool countIncludePad, int? divisorOverride) where T : INumberBase<T>
    {
        dx.Clear();
        for (int c = 0; c < p.Planes; c++)
        for (int oh = 0; oh < p.OutH; oh++)
        for (int ow = 0; ow < p.OutW; ow++)
        {
            var (h0, h1, w0, w1, div) = AvgWindow(p, oh, ow, countIncludePad, divisorOverride);
            if (h0 >= h1 || w0 >= w1) continue;
            T g = dy[c * p.OutPlane + oh * p.OutW + ow] / T.CreateChecked(div);
            for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
                dx[c * p.InPlane + ih * p.W + iw] += g;
        }
    }

    /// <summary>Adaptive window [⌊o·in/out⌋, ⌈(o+1)·in/out⌉).</summary>
    private static (int, int) AdaptiveRange(int o, int inSize, int outSize) =>
        ((int)((long)o * inSize / outSize), (int)(((long)(o + 1) * inSize + outSize - 1) / outSize));

    public static void AdaptiveAvgPool<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int h, int w, int outH, int outW)
        where T : INumberBase<T>
    {
        for (int c = 0; c < planes; c++)
        for (int oh = 0; oh < outH; oh++)
        {
            var (h0, h1) = AdaptiveRange(oh, h, outH);
            for (int ow = 0; ow < outW; ow++)
            {
                var (w0, w1) = AdaptiveRange(ow, w, outW);
                T count = T.CreateChecked((h1 - h0) * (w1 - w0));
                T sum = T.Zero;
                for (int ih = h0; ih < h1; ih++)
                for (int iw = w0; iw < w1; iw++)
                    sum += x[(c * h + ih) * w + iw];
                y[(c * outH + oh) * outW + ow] = sum / count;
            }
        }
    }

    /// <summary>The adjoint of <see cref="AdaptiveAvgPool{T}"/>: each output gradient spread evenly over its window.</summary>
    public static void AdaptiveAvgPoolBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int planes, int h, int w, int outH, int outW)
        where T : INumberBase<T>
    {
        dx.Clear();
        for (int c = 0; c < planes; c++)
        for (int oh = 0; oh < outH; oh++)
        {
            var (h0, h1) = AdaptiveRange(oh, h, outH);
            for (int ow = 0; ow < outW; ow++)
            {
                var (w0, w1) = AdaptiveRange(ow, w, outW);
                T g = dy[(c * outH + oh) * outW + ow] / T.CreateChecked((h1 - h0) * (w1 - w0));
                for (int ih = h0; ih < h1; ih++)
                for (int iw = w0; iw < w1; iw++)
                    dx[(c * h + ih) * w + iw] += g;
            }
        }
    }

    public static void AdaptiveMaxPool<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, int planes, int h, int w, int outH, int outW)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        for (int c = 0; c < planes; c++)
        {
            var plane = x.Slice(c * h * w, h * w);
            for (int oh = 0; oh < outH; oh++)
            {
                var (h0, h1) = AdaptiveRange(oh, h, outH);
                for (int ow = 0; ow < outW; ow++)
                {
                    var (w0, w1) = AdaptiveRange(ow, w, outW);
                    var (v, k) = MaxOver(plane, w, h0, h1, 1, w0, w1, 1);
                    y[(c * outH + oh) * outW + ow] = v;
                    indices[(c * outH + oh) * outW + ow] = k;
                }
            }
        }
    }
}
