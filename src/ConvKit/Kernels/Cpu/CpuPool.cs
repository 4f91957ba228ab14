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
        fixed (float* px = x, py = y)
        fixed (long* pi = indices)
        {
            nint xs = (nint)px, ys = (nint)py, ids = (nint)pi;
            Parallelism.For(p.Planes, c =>
            {
                float* plane = (float*)xs + (long)c * p.InPlane;
                float* outp = (float*)ys + (long)c * p.OutPlane;
                long* outi = (long*)ids + (long)c * p.OutPlane;
                for (int oh = 0; oh < p.OutH; oh++)
                {
                    int h0 = oh * p.StrideH - p.PadH;
                    int h1 = Math.Min(h0 + (p.KH - 1) * p.DilationH + 1, p.H);
                    while (h0 < 0) h0 += p.DilationH;
                    for (int ow = 0; ow < p.OutW; ow++)
                    {
                        int w0 = ow * p.StrideW - p.PadW;
                        int w1 = Math.Min(w0 + (p.KW - 1) * p.DilationW + 1, p.W);
                        while (w0 < 0) w0 += p.DilationW;
                        long best = (long)h0 * p.W + w0;
                        float max = float.NegativeInfinity;
                        for (int ih = h0; ih < h1; ih += p.DilationH)
                        {
                            float* row = plane + (long)ih * p.W;
                            for (int iw = w0; iw < w1; iw += p.DilationW)
                            {
                                float v = row[iw];
                                if (v > max || float.IsNaN(v)) { max = v; best = (long)ih * p.W + iw; }
                            }
                        }
                        outp[oh * p.OutW + ow] = max;
                        outi[oh * p.OutW + ow] = best;
                    }
                }
            });
        }
    }

    /// <summary>Routes each output gradient to its max's input position (skipping all-padding windows, see the reference); planes run in parallel.</summary>
    public static void MaxPoolBackward(ReadOnlySpan<float> dy, ReadOnlySpan<long> indices, Span<float> dx, int planes, int inPlane, int outPlane)
    {
        dx.Clear();
        fixed (float* pg = dy, pd = dx)
        fixed (long* pi = indices)
        {
            nint gs = (nint)pg, ds = (nint)pd, ids = (nint)pi;
            Parallelism.For(planes, c =>
            {
                float* g = (float*)gs + (long)c * outPlane;
                float* d = (float*)ds + (long)c * inPlane;
                long* idx = (long*)ids + (long)c * outPlane;
                for (int o = 0; o < outPlane; o++)
                    if ((ulong)idx[o] < (ulong)inPlane) d[idx[o]] += g[o];
            });
        }
    }
}
