using System.Numerics.Tensors;

namespace ConvKit.Kernels.Reference;

/// <summary>Per-channel loops over [N, C, L] data for batch normalization.</summary>
internal static class ReferenceNorm
{
    /// <summary>Per-channel mean and biased variance, accumulated in double (two passes).</summary>
    public static (double[] Mean, double[] Var) ChannelStats(ReadOnlySpan<float> x, int n, int c, int l)
    {
        var mean = new double[c];
        var var = new double[c];
        double count = (double)n * l;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += TensorPrimitives.Sum(x.Slice((i * c + ch) * l, l));
            double m = s / count, ss = 0;
            for (int i = 0; i < n; i++)
                foreach (var v in x.Slice((i * c + ch) * l, l)) ss += (v - m) * (v - m);
            mean[ch] = m;
            var[ch] = ss / count;
        }
        return (mean, var);
    }

    /// <summary>y = x·scale[c] + shift[c].</summary>
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, int n, int c, int l)
    {
        for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
        {
            var src = x.Slice((i * c + ch) * l, l);
            var dst = y.Slice((i * c + ch) * l, l);
            TensorPrimitives.Multiply(src, scale[ch], dst);
            TensorPrimitives.Add(dst, shift[ch], dst);
        }
    }

    /// <summary>Per-channel Σ dy and Σ dy·x̂ where x̂ = (x − mean)·invstd.</summary>
    public static (double[] SumDy, double[] SumDyXhat) GradSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, double[] mean, double[] invstd, int n, int c, int l)
    {
        var sdy = new double[c];
        var sdx = new double[c];
        for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
        {
            var g = dy.Slice((i * c + ch) * l, l);
            var xs = x.Slice((i * c + ch) * l, l);
            double a = 0, b = 0;
            for (int k = 0; k < l; k++) { a += g[k]; b += g[k] * (xs[k] - mean[ch]); }
            sdy[ch] += a;
            sdx[ch] += b * invstd[ch];
        }
        return (sdy, sdx);
    }
}
