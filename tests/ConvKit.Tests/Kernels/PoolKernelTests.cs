using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;

namespace ConvKit.Tests.Kernels;

public class PoolKernelTests
{
    [Fact]
    public void CpuMaxPoolMatchesTheReferenceIncludingIndicesAndNaN()
    {
        var rng = new Random(31);
        for (int iter = 0; iter < 300; iter++)
        {
            int kh = rng.Next(1, 5), kw = rng.Next(1, 5), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int h = rng.Next(1, 12), w = rng.Next(1, 12), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int ph = rng.Next(0, kh / 2 + 1), pw = rng.Next(0, kw / 2 + 1);
            if (iter % 3 == 0) (kh, kw, sh, sw, dh, dw, ph, pw) = (2, 2, 2, 2, 1, 1, 0, 0);   // the dedicated 2×2 path
            bool ceil = rng.Next(2) == 0;
            int oh = F.PoolOutSize(h, kh, ph, sh, dh, ceil), ow = F.PoolOutSize(w, kw, pw, sw, dw, ceil);
            if (oh < 1 || ow < 1) continue;
            var p = new Pool2dParams(rng.Next(1, 5), h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            var x = ConvGeometryGen.Data(rng, p.Planes * p.InPlane);
            if (iter % 2 == 0) for (int k = 0; k < 1 + x.Length / 10; k++) x[rng.Next(x.Length)] = float.NaN;
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
}
