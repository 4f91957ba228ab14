namespace ConvKit.Kernels.Reference;

/// <summary>
/// Per-axis source tables for resampling, computed with ATen's float arithmetic (UpSample.h), and the
/// separable gather / scatter loops that use them. Bilinear taps: out = Σ λ·x over (i0, i1) per axis.
/// </summary>
internal sealed record AxisTaps(int[] I0, int[] I1, float[] L0, float[] L1);

internal static class ReferenceInterpolate
{
    private static float ScaleValue(double? scale, int inSize, int outSize) =>
        scale is double s && s > 0 ? (float)(1.0 / s) : (float)inSize / outSize;

    /// <summary>
    /// Source index of each output position for "nearest" or "nearest-exact". <paramref name="shortcut"/> applies
    /// ATen's legacy ×1 / ×2 index shortcuts, which PyTorch 1.13 only takes in its channels-last kernel.
    /// </summary>
    public static AxisTaps Nearest(int inSize, int outSize, double? scale, bool exact, bool shortcut)
    {
        var i0 = new int[outSize];
        float s = ScaleValue(scale, inSize, outSize);
        for (int o = 0; o < outSize; o++)
        {
            int src;
            if (shortcut && !exact && outSize == inSize) src = o;
            else if (shortcut && !exact && outSize == 2 * inSize) src = o >> 1;
            else if (exact) src = (int)MathF.Floor((float)((o + 0.5) * s));
            else src = (int)MathF.Floor(o * s);
            i0[o] = Math.Min(src, inSize - 1);
        }
        return new AxisTaps(i0, i0, Enumerable.Repeat(1f, outSize).ToArray(), new float[outSize]);
    }

    /// <summary>Two taps and weights per output position for linear interpolation (area_pixel_compute_source_index).</summary>
    public static AxisTaps Linear(int inSize, int outSize, double? scale, bool alignCorners)
    {
        float s = alignCorners ? (outSize > 1 ? (float)(inSize - 1) / (outSize - 1) : 0f) : ScaleValue(scale, inSize, outSize);
        var i0 = new int[outSize]; var i1 = new int[outSize]; var l0 = new float[outSize]; var l1 = new float[outSize];
        for (int o = 0; o < outSize; o++)
        {
            float real = alignCorners ? s * o : (float)(s * (o + 0.5) - 0.5);
            if (real < 0) real = 0;
            int idx = Math.Min((int)MathF.Floor(real), inSize - 1);
            float lambda = Math.Clamp(real - idx, 0f, 1f);
            i0[o] = idx;
            i1[o] = idx + (idx < inSize - 1 ? 1 : 0);
            l1[o] = lambda;
            l0[o] = 1 - lambda;
        }
        return new AxisTaps(i0, i1, l0, l1);
    }

    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int planes, int h, int w, AxisTaps th, AxisTaps tw)
    {
        int oh = th.I0.Length, ow = tw.I0.Length;
        for (int c = 0; c < planes; c++)
        {
            var src = x.Slice(c * h * w, h * w);
            for (int i = 0; i < oh; i++)
            {
                var r0 = src.Slice(th.I0[i] * w, w);
                var r1 = src.Slice(th.I1[i] * w, w);
                float a = th.L0[i], b = th.L1[i];
                for (int j = 0; j < ow; j++)
                {
                    int j0 = tw.I0[j], j1 = tw.I1[j];
                    float p = tw.L0[j], q = tw.L1[j];
                    y[(c * oh + i) * ow + j] = a * (p * r0[j0] + q * r0[j1]) + b * (p * r1[j0] + q * r1[j1]);
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Forward"/>: scatters each output gradient back through the same taps.</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int h, int w, AxisTaps th, AxisTaps tw)
    {
        int oh = th.I0.Length, ow = tw.I0.Length;
        dx.Clear();
        for (int c = 0; c < planes; c++)
        {
            var dst = dx.Slice(c * h * w, h * w);
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                float g = dy[(c * oh + i) * ow + j];
                int j0 = tw.I0[j], j1 = tw.I1[j];
                float a = th.L0[i] * g, b = th.L1[i] * g;
                dst[th.I0[i] * w + j0] += a * tw.L0[j];
                dst[th.I0[i] * w + j1] += a * tw.L1[j];
                dst[th.I1[i] * w + j0] += b * tw.L0[j];
                dst[th.I1[i] * w + j1] += b * tw.L1[j];
            }
        }
    }
}
