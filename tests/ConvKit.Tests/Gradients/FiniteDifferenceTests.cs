using ConvKit.Kernels.Reference;
using ConvKit.Tests.Kernels;
using Xunit;

namespace ConvKit.Tests.Gradients;

/// <summary>
/// Gradients against central finite differences computed in double precision through the reference kernels:
/// f(x) = ⟨op(x), g⟩, df/dx_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h. Checked both for the kernels' own backward
/// (in double) and for ConvKit's float autograd through the public F API.
/// </summary>
public class FiniteDifferenceTests
{
    private const double H = 1e-5;

    private static double[] D(float[] v) => v.Select(x => (double)x).ToArray();

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    /// <summary>Numerical gradient of f at a sample of coordinates (all when small).</summary>
    private static IEnumerable<(int Index, double Value)> Numerical(double[] x, Func<double[], double> f, Random rng, int samples = 12)
    {
        var idx = x.Length <= samples ? Enumerable.Range(0, x.Length) : Enumerable.Range(0, samples).Select(_ => rng.Next(x.Length));
        foreach (var i in idx)
        {
            double keep = x[i];
            x[i] = keep + H; double up = f(x);
            x[i] = keep - H; double down = f(x);
            x[i] = keep;
            yield return (i, (up - down) / (2 * H));
        }
    }

    private static void Near(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: analytic {actual}, numerical {expected}");

    [Fact]
    public void ConvolutionBackwardKernelsMatchFiniteDifferencesInDouble()
    {
        var rng = new Random(5);
        for (int iter = 0; iter < 60; iter++)
        {
            var p = ConvGeometryGen.Next(rng);
            var x = D(ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane));
            var w = D(ConvGeometryGen.Data(rng, p.COut * p.ColRows));
            var g = D(ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane));
            double F(double[] xs, double[] ws) { var y = new double[g.Length]; ReferenceConv.Forward<double>(xs, ws, default, y, p); return Dot(y, g); }
            var dx = new double[x.Length]; ReferenceConv.Adjoint<double>(g, w, default, dx, p);
            var dw = new double[w.Length]; ReferenceConv.WeightGrad<double>(x, g, dw, p);
            foreach (var (i, v) in Numerical(x, xs => F(xs, w), rng)) Near(v, dx[i], 1e-7, $"dx[{i}] {p}");
            foreach (var (i, v) in Numerical(w, ws => F(x, ws), rng)) Near(v, dw[i], 1e-7, $"dw[{i}] {p}");
        }
    }

    [Fact]
    public void Conv2dAndConvTranspose2dAutogradMatchDoubleFiniteDifferences()
    {
        var rng = new Random(6);
        for (int iter = 0; iter < 40; iter++)
        {
            var p = ConvGeometryGen.Next(rng);
            var xf = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
            var wf = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
            var gf = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
            var xt = Tensor.FromArray(xf, p.N, p.CIn, p.H, p.W).RequiresGrad_();
            var wt = Tensor.FromArray(wf, p.COut, p.CInPerGroup, p.KH, p.KW).RequiresGrad_();
            var yt = Tensor.FromArray(gf, p.N, p.COut, p.OutH, p.OutW).RequiresGrad_();
            (ConvOps.Forward(xt, wt, null, p) * Tensor.FromArray(gf, p.N, p.COut, p.OutH, p.OutW)).Sum().Backward();
            double[] x = D(xf), w = D(wf), g = D(gf);
            double Fwd(double[] xs, double[] ws) { var y = new double[g.Length]; ReferenceConv.Forward<double>(xs, ws, default, y, p); return Dot(y, g); }
            var gx = xt.Grad!.ToArray(); var gw = wt.Grad!.ToArray();
            foreach (var (i, v) in Numerical(x, xs => Fwd(xs, w), rng)) Near(v, gx[i], 2e-4, $"conv dx[{i}] {p}");
            foreach (var (i, v) in Numerical(w, ws => Fwd(x, ws), rng)) Near(v, gw[i], 2e-4, $"conv dw[{i}] {p}");

            // The transposed convolution maps the output side back; its gradient wrt its input is a convolution.
            var c = D(ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane));
            (ConvOps.Adjoint(yt, wt.Detach(), null, p) * Tensor.FromArray(c.Select(v => (float)v).ToArray(), p.N, p.CIn, p.H, p.W)).Sum().Backward();
            double Adj(double[] ys) { var xo = new double[c.Length]; ReferenceConv.Adjoint<double>(ys, w, default, xo, p); return Dot(xo, c); }
            var gy = yt.Grad!.ToArray();
            foreach (var (i, v) in Numerical(g.ToArray(), Adj, rng)) Near(v, gy[i], 2e-4, $"conv_transpose dy[{i}] {p}");
        }
    }

    [Fact]
    public void PoolingAutogradMatchesDoubleFiniteDifferences()
    {
        var rng = new Random(7);
        for (int iter = 0; iter < 40; iter++)
        {
            int k = rng.Next(1, 4), s = rng.Next(1, 3), pad = rng.Next(0, k / 2 + 1), h = rng.Next(k, 9), w = rng.Next(k, 9);
            bool ceil = rng.Next(2) == 0, countPad = rng.Next(2) == 0;
            int oh = F.PoolOutSize(h, k, pad, s, 1, ceil), ow = F.PoolOutSize(w, k, pad, s, 1, ceil);
            var pp = new Pool2dParams(2, h, w, k, k, s, s, pad, pad, 1, 1, oh, ow);
            var xf = ConvGeometryGen.Data(rng, 2 * h * w);
            var gf = ConvGeometryGen.Data(rng, 2 * oh * ow);
            var xt = Tensor.FromArray(xf, 1, 2, h, w).RequiresGrad_();
            (F.AvgPool2d(xt, k, s, pad, ceil, countPad) * Tensor.FromArray(gf, 1, 2, oh, ow)).Sum().Backward();
            double Avg(double[] xs) { var y = new double[gf.Length]; ReferencePool.AvgPool<double>(xs, y, pp, countPad, null); return Dot(y, D(gf)); }
            var ga = xt.Grad!.ToArray();
            foreach (var (i, v) in Numerical(D(xf), Avg, rng)) Near(v, ga[i], 1e-4, $"avg_pool dx[{i}]");

            var xm = Tensor.FromArray(xf, 1, 2, h, w).RequiresGrad_();
            (F.MaxPool2d(xm, k, s, pad, 1, ceil) * Tensor.FromArray(gf, 1, 2, oh, ow)).Sum().Backward();
            double Max(double[] xs) { var y = new double[gf.Length]; ReferencePool.MaxPool<double>(xs, y, new long[gf.Length], pp); return Dot(y, D(gf)); }
            var gm = xm.Grad!.ToArray();
            foreach (var (i, v) in Numerical(D(xf), Max, rng)) Near(v, gm[i], 1e-4, $"max_pool dx[{i}]");
        }
    }

    [Fact]
    public void ElementwiseReductionAndSoftmaxAutogradMatchFiniteDifferences()
    {
        // Composite function through many ops; its float gradient against a double evaluation of the same formula.
        var rng = new Random(8);
        var xf = ConvGeometryGen.Data(rng, 24);
        var x = Tensor.FromArray(xf, 2, 3, 4).RequiresGrad_();
        var y = F.LogSoftmax(x * 2f, 1).Exp().Pow(2f).Sum([0, 2]) / (x.Abs() + 1f).Mean();
        y.Sum().Backward();
        double Fd(double[] v)
        {
            double mean = v.Select(a => Math.Abs(a) + 1).Average();
            double total = 0;
            for (int n = 0; n < 2; n++)
            for (int j = 0; j < 4; j++)
            {
                var col = Enumerable.Range(0, 3).Select(c => 2 * v[(n * 3 + c) * 4 + j]).ToArray();
                double m = col.Max(), lse = m + Math.Log(col.Sum(a => Math.Exp(a - m)));
                total += col.Sum(a => Math.Exp(2 * (a - lse)));
            }
            return total / mean;
        }
        var gx = x.Grad!.ToArray();
        foreach (var (i, v) in Numerical(D(xf), Fd, rng, 24)) Near(v, gx[i], 1e-3, $"composite dx[{i}]");
    }
}
