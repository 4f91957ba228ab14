using Xunit;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Training-mode batch norm, with and without the fused ReLU, against a double-precision reference on rows long enough
/// to cross the kernels' vector blocks, tails and 1024-element chunks, with a large mean so the shifted sums matter.
/// </summary>
public class BatchNormRowsTests
{
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
