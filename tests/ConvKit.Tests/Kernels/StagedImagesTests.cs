using ConvKit.Kernels.Cpu;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The staged copy (<see cref="StagedImages"/>) and its panels (<see cref="StagedIm2ColPanel"/>, and
/// <see cref="StagedIm2ColTransposedPanel"/> for the weight gradient) pack exactly the slivers the direct panels pack
/// from the images, on every geometry, not only those the dispatcher stages: narrow
/// rows (slivers of many runs), strides 1 to 3 (column phases), dilation, asymmetric padding, several images side by
/// side, blocks that start mid-matrix, and ragged last slivers. The direct panel's portable path is the oracle.
/// </summary>
public unsafe class StagedImagesTests
{
    private static void AssertPacksLikeDirectPanel(Conv2dParams p, Random rng, bool simd)
    {
        int images = p.N, rows = p.CIn * p.KH * p.KW, cols = images * p.OutPlane;
        var x = ConvGeometryGen.Data(rng, images * p.CIn * p.InPlane);
        var staging = Enumerable.Repeat(float.NaN, (int)StagedImages.Floats(p, images, p.CIn)).ToArray();
        int k0 = rng.Next(0, rows), kc = rng.Next(1, rows - k0 + 1), j0 = rng.Next(0, cols), nc = rng.Next(1, cols - j0 + 1);
        int slivers = (nc + Gemm.NR - 1) / Gemm.NR;
        var expected = new float[slivers * kc * Gemm.NR];
        var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
        fixed (float* px = x, ps = staging, pe = expected, pa = actual)
        {
            new Im2ColPanel(px, p, p.CIn * p.InPlane).Pack(k0, kc, j0, nc, pe, simd: false);
            var staged = StagedImages.Stage(px, p.CIn * p.InPlane, images, p.CIn, p, ps, simd);
            new StagedIm2ColPanel(staged).Pack(k0, kc, j0, nc, pa, simd);
        }
        AssertSame(expected, actual, $"{p} simd={simd} rows {k0}+{kc} columns {j0}+{nc}");

        // The transposed panel, colᵀ: k runs over the positions, the columns over the taps.
        k0 = rng.Next(0, cols); kc = rng.Next(1, cols - k0 + 1); j0 = rng.Next(0, rows); nc = rng.Next(1, rows - j0 + 1);
        expected = new float[(nc + Gemm.NR - 1) / Gemm.NR * kc * Gemm.NR];
        actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
        fixed (float* px = x, ps = staging, pe = expected, pa = actual)
        {
            new Im2ColTransposedPanel(px, p, p.CIn * p.InPlane).Pack(k0, kc, j0, nc, pe, simd: false);
            var staged = StagedImages.Stage(px, p.CIn * p.InPlane, images, p.CIn, p, ps, simd);
            new StagedIm2ColTransposedPanel(staged).Pack(k0, kc, j0, nc, pa, simd);
        }
        AssertSame(expected, actual, $"transposed {p} simd={simd} positions {k0}+{kc} taps {j0}+{nc}");
    }

    private static void AssertSame(float[] expected, float[] actual, string what) =>
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{what}: first difference at {expected.AsSpan().CommonPrefixLength(actual)}");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PacksLikeTheDirectPanelOnRandomGeometries(bool simd)
    {
        if (simd && !Gemm.UsesFma) return;
        var rng = new Random(simd ? 97 : 98);
        for (int iter = 0; iter < 400; iter++)
        {
            var p = ConvGeometryGen.Next(rng, maxH: 20, maxW: iter % 2 == 0 ? 14 : 70, maxStep: 4) with { Groups = 1 };
            AssertPacksLikeDirectPanel(p with { COut = 1 }, rng, simd);
        }
    }

    /// <summary>The workloads' shapes: the 7×7/s2 stem, a 'same' 3×3, a strided 3×3 whose rows are odd, and 1-wide outputs.</summary>
    [Theory]
    [InlineData(1, 3, 45, 45, 7, 2, 3, 1)]
    [InlineData(2, 4, 33, 37, 3, 1, 1, 1)]
    [InlineData(1, 5, 29, 31, 3, 2, 1, 1)]
    [InlineData(3, 2, 9, 3, 3, 1, 1, 2)]
    public void PacksLikeTheDirectPanelOnWorkloadShapes(int n, int c, int h, int w, int k, int stride, int pad, int dilation)
    {
        int oh = Conv2dParams.ConvOutSize(h, 2 * pad, k, stride, dilation), ow = Conv2dParams.ConvOutSize(w, 2 * pad, k, stride, dilation);
        var p = new Conv2dParams { N = n, CIn = c, H = h, W = w, COut = 1, KH = k, KW = k, StrideH = stride, StrideW = stride,
                                   PadTop = pad, PadLeft = pad, DilationH = dilation, DilationW = dilation, OutH = oh, OutW = ow };
        var rng = new Random(n * 1000 + h);
        foreach (bool simd in Gemm.UsesFma ? new[] { true, false } : [false])
            for (int iter = 0; iter < 20; iter++) AssertPacksLikeDirectPanel(p, rng, simd);
    }

    /// <summary>The margins: the staged data starts <see cref="StagedImages.Margin"/> floats in, and both margins are zero.</summary>
    [Fact]
    public void MarginsAreZeroAndTheDataSitsBetweenThem()
    {
        var p = new Conv2dParams { N = 1, CIn = 2, H = 5, W = 6, COut = 1, KH = 3, KW = 3, StrideH = 2, StrideW = 2, PadTop = 1, PadLeft = 1, OutH = 3, OutW = 3 };
        var staging = Enumerable.Repeat(float.NaN, (int)StagedImages.Floats(p, 1, 2)).ToArray();
        var x = Enumerable.Range(1, 60).Select(v => (float)v).ToArray();
        fixed (float* px = x, ps = staging)
        {
            var s = StagedImages.Stage(px, 60, 1, 2, p, ps, Gemm.UsesFma);
            Assert.True(s.S == ps + StagedImages.Margin);
        }
        Assert.All(staging.Take(StagedImages.Margin).Concat(staging.TakeLast(StagedImages.Margin)), v => Assert.Equal(0f, v));
        Assert.DoesNotContain(staging, float.IsNaN);
        // Every input element is staged exactly once (padding is zeros).
        Assert.Equal(x.Sum(), staging.Sum());
    }
}
