using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;

namespace ConvKit.Tests.Kernels;

public class PoolKernelTests
{
    /// <summary>A random pooling geometry with NaNs in half the inputs; every third one is <paramref name="common"/>'s window.</summary>
    private static (Pool2dParams P, float[] X)? RandomCase(Random rng, int iter, int maxH, int maxW, (int K, int S, int Pad) common)
    {
        int kh = rng.Next(1, 5), kw = rng.Next(1, 5), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
        int h = rng.Next(1, maxH), w = rng.Next(1, maxW), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
        int ph = rng.Next(0, kh / 2 + 1), pw = rng.Next(0, kw / 2 + 1);
        if (iter % 3 == 0) (kh, kw, sh, sw, dh, dw, ph, pw) = (common.K, common.K, common.S, common.S, 1, 1, common.Pad, common.Pad);
        bool ceil = rng.Next(2) == 0;
        int oh = F.PoolOutSize(h, kh, ph, sh, dh, ceil), ow = F.PoolOutSize(w, kw, pw, sw, dw, ceil);
        if (oh < 1 || ow < 1) return null;
        var p = new Pool2dParams(rng.Next(1, 5), h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
        var x = ConvGeometryGen.Data(rng, p.Planes * p.InPlane);
        if (iter % 2 == 0) for (int k = 0; k < 1 + x.Length / 10; k++) x[rng.Next(x.Length)] = float.NaN;
        // Few distinct values: ties, where the first maximum's index must win.
        if (iter % 4 == 1) for (int k = 0; k < x.Length; k++) x[k] = MathF.Round(x[k] * 2) / 2;
        return (p, x);
    }

    [Fact]
    public void CpuMaxPoolMatchesTheReferenceIncludingIndicesAndNaN()
    {
        var rng = new Random(31);
        for (int iter = 0; iter < 400; iter++)
        {
            // Every third: the dedicated 2×2 path (vector rows from W = 16) or ResNet's padded 3×3/s2 window; wide rows take the 8-window vectors.
            if (RandomCase(rng, iter, 12, iter % 2 == 0 ? 40 : 90, iter % 6 == 0 ? (2, 2, 0) : (3, 2, 1)) is not var (p, x)) continue;
            var yr = new float[p.Planes * p.OutPlane]; var yf = new float[yr.Length];
            var ir = new long[yr.Length]; var iF = new long[yr.Length];
            ReferencePool.MaxPool<float>(x, yr, ir, p);
            CpuPool.MaxPool(x, yf, iF, p);
            Assert.Equal(yr, yf);
            Assert.Equal(ir, iF);
            var g = ConvGeometryGen.Data(rng, yr.Length);
            var dr = new float[x.Length]; var df = new float[x.Length];
            ReferencePool.MaxPoolBackward<float>(g, ir, dr, p.Planes, p.InPlane, p.OutPlane);
            CpuPool.MaxPoolBackward(g, iF, df, p.Planes, p.InPlane, p.OutPlane);
            Assert.Equal(dr, df);
        }
    }

    /// <summary>The index-free inference kernel on planes wide enough for its vector rows, with NaNs, padding, dilation and ceil mode.</summary>
    [Fact]
    public void MaxPoolValuesMatchTheReference()
    {
        var rng = new Random(47);
        for (int iter = 0; iter < 300; iter++)
        {
            if (RandomCase(rng, iter, 20, 40, (3, 2, 1)) is not var (p, x)) continue;   // every third: ResNet's stem pool
            var yr = new float[p.Planes * p.OutPlane]; var yf = new float[yr.Length];
            ReferencePool.MaxPool<float>(x, yr, new long[yr.Length], p);
            CpuPool.MaxPoolValues(x, yf, p);
            Assert.Equal(yr, yf);
        }
    }

    [Fact]
    public void MaxPoolWithoutGradientTakesTheValuesKernelAndAgreesWithTheIndexedOne()
    {
        var x = TestUtil.Random(new Random(5), 2, 3, 17, 23);
        var indexed = F.MaxPool2dWithIndices(x, 3, 2, 1).Output;
        Assert.Equal(indexed.ToArray(), F.MaxPool2d(x, 3, 2, 1).ToArray());
        var leaf = x.Clone().RequiresGrad_();
        var y = F.MaxPool2d(leaf, 3, 2, 1);
        Assert.Equal(indexed.ToArray(), y.ToArray());
        y.Sum().Backward();
        Assert.NotNull(leaf.Grad);
    }
}
