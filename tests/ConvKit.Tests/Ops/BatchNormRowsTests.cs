using Xunit;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Training-mode batch norm, with and without the fused ReLU, against a double-precision reference on rows long enough
/// to cross the kernels' vector blocks, tails and 1024-element chunks, with a large mean so the shifted sums matter.
/// </summary>
public class BatchNormRowsTests
{
    /// <summary>
    /// The one-pass statistics (per-chunk means merged by Chan's update) against a double two-pass reference where a
    /// naive Σx² − (Σx)²/n in float would lose every digit: a mean of 10⁴ with a spread of 10⁻², chunks whose means
    /// differ (a ramp across images), and an outlier as the very first element.
    /// </summary>
    [Theory]
    [InlineData(3, 2, 2500, 1e4, 1e-2)]
    [InlineData(5, 3, 700, -3e3, 1.0)]
    [InlineData(1, 1, 5000, 0.0, 1e-3)]
    public void ChannelStatisticsStayAccurateUnderLargeOffsetsAndOutliers(int n, int c, int l, double offset, double spread)
    {
        var rng = new Random(l + n);
        var xs = new float[n * c * l];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)(offset + spread * (rng.NextDouble() * 2 - 1) + spread * (i / l % n));
        xs[0] = (float)(offset + 1000 * spread);
        var (mean, var) = ConvKit.Kernels.Cpu.BatchNormKernels.ChannelStats(xs, n, c, l);
        for (int ch = 0; ch < c; ch++)
        {
            double m = 0, v = 0, count = (double)n * l;
            for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) m += xs[(i * c + ch) * l + j];
            m /= count;
            for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) v += Math.Pow(xs[(i * c + ch) * l + j] - m, 2);
            v /= count;
            // Float inputs: the mean to a few float ulps of the offset, the variance to 1e-4 relative.
            Assert.True(Math.Abs(mean[ch] - m) <= 4e-7 * (Math.Abs(offset) + spread), $"channel {ch}: mean {mean[ch]}, expected {m}");
            Assert.True(Math.Abs(var[ch] - v) <= 1e-4 * v, $"channel {ch}: variance {var[ch]}, expected {v}");
        }
    }

    [Theory]
    [InlineData(2, 3, 3001, false)]
    [InlineData(3, 2, 1024, true)]
    [InlineData(1, 4, 2063, true)]
    [InlineData(4, 5, 7, false)]
    public void TrainingForwardAndBackwardMatchADoubleReference(int n, int c, int l, bool relu)
    {
        var rng = new Random(n * 1000 + c * 10 + l);
        float[] xs = new float[n * c * l], gs = new float[n * c * l], ws = new float[c], bs = new float[c];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)(100 + 3 * (rng.NextDouble() * 2 - 1));
        for (int i = 0; i < gs.Length; i++) gs[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < c; i++) { ws[i] = (float)(0.5 + rng.NextDouble()); bs[i] = (float)(rng.NextDouble() - 0.5); }
        var x = Tensor.FromArray(xs, [n, c, l]).RequiresGrad_();
        var w = Tensor.FromArray(ws, [c]).RequiresGrad_();
        var b = Tensor.FromArray(bs, [c]).RequiresGrad_();
        var y = F.BatchNorm(x, Tensor.Zeros(c), Tensor.Ones(c), w, b, training: true, momentum: 0.1, eps: 1e-5, relu: relu);
        y.Backward(Tensor.FromArray(gs, [n, c, l]));
        float[] yv = y.ToArray(), dx = x.Grad!.ToArray(), dw = w.Grad!.ToArray(), db = b.Grad!.ToArray();

        double count = (double)n * l;
        for (int ch = 0; ch < c; ch++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) mean += xs[(i * c + ch) * l + j];
            mean /= count;
            for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) var += Math.Pow(xs[(i * c + ch) * l + j] - mean, 2);
            var /= count;
            double invstd = 1 / Math.Sqrt(var + 1e-5);
            double sdy = 0, sdyx = 0;
            var dyEff = new double[n * l];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < l; j++)
                {
                    int idx = (i * c + ch) * l + j;
                    double xhat = (xs[idx] - mean) * invstd, pre = xhat * ws[ch] + bs[ch];
                    double expect = relu ? Math.Max(pre, 0) : pre;
                    Assert.True(Math.Abs(yv[idx] - expect) <= 2e-5 * (1 + Math.Abs(expect)), $"y[{idx}] = {yv[idx]}, expected {expect}");
                    double dy = relu && !(yv[idx] > 0) ? 0 : gs[idx];
                    dyEff[i * l + j] = dy;
                    sdy += dy;
                    sdyx += dy * xhat;
                }
            Assert.True(Math.Abs(db[ch] - sdy) <= 1e-5 * count, $"bias grad {db[ch]} expected {sdy}");
            Assert.True(Math.Abs(dw[ch] - sdyx) <= 1e-5 * count, $"weight grad {dw[ch]} expected {sdyx}");
            for (int i = 0; i < n; i++)
                for (int j = 0; j < l; j++)
                {
                    int idx = (i * c + ch) * l + j;
                    double xhat = (xs[idx] - mean) * invstd;
                    double expect = ws[ch] * invstd * (dyEff[i * l + j] - sdy / count - xhat * sdyx / count);
                    Assert.True(Math.Abs(dx[idx] - expect) <= 1e-4 * (1 + Math.Abs(expect)), $"dx[{idx}] = {dx[idx]}, expected {expect}");
                }
        }
    }
}
