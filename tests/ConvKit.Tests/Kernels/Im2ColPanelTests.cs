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
                        $"{p} rows {k0}+{kc} columns {j0}+{nc}: first difference at {expected.AsSpan().CommonPrefixLength(actual)}");
        }
    }
}
