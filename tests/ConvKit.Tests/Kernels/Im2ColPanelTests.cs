using ConvKit.Kernels.Cpu;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The direct im2col panel's SIMD paths (row loads, shifted masked loads, the AVX-512 run loads with their stride-2
/// permute, gathers) against its portable path, on narrow and wide rows, strides 1 to 3, dilation, asymmetric padding,
/// blocks that start mid-matrix and slivers that span images.
/// </summary>
public unsafe class Im2ColPanelTests
{
    [Fact]
    public void DirectPanelSimdPacksLikeItsPortablePath()
    {
        if (!Gemm.UsesFma) return;
        var rng = new Random(99);
        for (int iter = 0; iter < 400; iter++)
        {
            var p = ConvGeometryGen.Next(rng, maxH: 20, maxW: iter % 2 == 0 ? 14 : 40, maxStep: 3) with { Groups = 1, COut = 1 };
            AssertPacksLikePortablePath(p, rng, "");
        }
    }

    /// <summary>A random block of p's panel (rows k0.., columns j0..) packed by the SIMD paths equals the portable path's, bit for bit.</summary>
    private static void AssertPacksLikePortablePath(Conv2dParams p, Random rng, string what)
    {
        int rows = p.CIn * p.KH * p.KW, cols = p.N * p.OutPlane;
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        int k0 = rng.Next(0, rows), kc = rng.Next(1, rows - k0 + 1), j0 = rng.Next(0, cols), nc = rng.Next(1, cols - j0 + 1);
        var expected = new float[(nc + Gemm.NR - 1) / Gemm.NR * kc * Gemm.NR];
        var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
        fixed (float* px = x, pe = expected, pa = actual)
        {
            var panel = new Im2ColPanel(px, p, p.CIn * p.InPlane);
            panel.Pack(k0, kc, j0, nc, pe, simd: false);
            panel.Pack(k0, kc, j0, nc, pa, simd: true);
        }
        Assert.True(expected.AsSpan().SequenceEqual(actual),
                    $"{p}{what} rows {k0}+{kc} columns {j0}+{nc}: first difference at {expected.AsSpan().CommonPrefixLength(actual)}");
    }

    /// <summary>
    /// 'Same' stride-1 geometries, where slivers that cross output rows take the shifted masked loads: their per-tap masks
    /// (kernels of up to 49 taps) and the per-row masks (larger kernels, or <see cref="Im2ColPanel.TapMasks"/> off)
    /// against the portable path, with dilation, asymmetric padding, several channels and slivers that span images.
    /// </summary>
    [Fact]
    public void ShiftedSliversPackLikeThePortablePathWithEitherMasks()
    {
        if (!Gemm.UsesFma) return;
        var rng = new Random(7);
        try
        {
            for (int iter = 0; iter < 300; iter++)
            {
                Im2ColPanel.TapMasks = iter % 3 != 2;
                // Up to 8×9 = 72 taps, past the per-tap table's 49.
                int kh = rng.Next(1, iter % 4 == 0 ? 9 : 6), kw = rng.Next(1, iter % 4 == 0 ? 10 : 6), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
                int padH = dh * (kh - 1), padW = dw * (kw - 1), pt = rng.Next(0, padH + 1), pl = rng.Next(0, padW + 1);
                int h = rng.Next(1, 12), w = rng.Next(1, 20), cin = rng.Next(1, 4);
                var p = new Conv2dParams
                {
                    N = rng.Next(1, 4), CIn = cin, H = h, W = w, COut = 1, KH = kh, KW = kw, StrideH = 1, StrideW = 1, PadTop = pt, PadLeft = pl,
                    DilationH = dh, DilationW = dw, Groups = 1, OutH = Conv2dParams.ConvOutSize(h, padH, kh, 1, dh), OutW = Conv2dParams.ConvOutSize(w, padW, kw, 1, dw),
                };
                Assert.Equal(w, p.OutW);
                AssertPacksLikePortablePath(p, rng, $" tap masks {Im2ColPanel.TapMasks}");
            }
        }
        finally { Im2ColPanel.TapMasks = true; }
    }
}
