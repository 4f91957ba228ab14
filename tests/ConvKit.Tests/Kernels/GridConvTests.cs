using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The padded-grid implicit GEMM (<see cref="Im2ColGemmConv.UsesGrid"/>): the forward and the flipped-forward data
/// gradient against the reference, and bit for bit against the packed panels it replaces (the same FMA chain per output).
/// </summary>
// GridForwards and the GEMM's ISA switches are process-wide.
[Collection(ForceScalarCollection.Name)]
public class GridConvTests
{
    /// <summary>A random stride-1 geometry the grid takes: several images, narrow rows, few output channels, a long panel.</summary>
    private static Conv2dParams NextGridGeometry(Random rng)
    {
        // Bounded, so that a grid rule that takes nothing fails here instead of looping forever.
        for (int attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 100_000, $"no grid geometry in {attempt} draws under {Gemm.Isa}");
            int groups = rng.Next(1, 3), kh = rng.Next(1, 6), kw = rng.Next(2, 6), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int h = rng.Next(3, 20), w = rng.Next(6, 40);
            int pt = rng.Next(0, 4), pl = rng.Next(0, 4), pb = rng.Next(0, 4), pr = rng.Next(0, 4);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, kh, 1, dh), ow = Conv2dParams.ConvOutSize(w, pl + pr, kw, 1, dw);
            if (oh < 1 || ow < 1) continue;
            int cig = rng.Next(Math.Min(64 / (kh * kw) + 1, 23), 24), cog = rng.Next(1, 65);
            var p = new Conv2dParams
            {
                N = rng.Next(2, 5), CIn = groups * cig, H = h, W = w, COut = groups * cog, KH = kh, KW = kw,
                PadTop = pt, PadLeft = pl, DilationH = dh, DilationW = dw, Groups = groups, OutH = oh, OutW = ow,
            };
            if (Im2ColGemmConv.UsesGrid(p)) return p;
        }
    }

    private static float[] Run(bool grid, Action<float[]> op, int length)
    {
        bool saved = Im2ColGemmConv.GridForwards;
        Im2ColGemmConv.GridForwards = grid;
        try
        {
            var result = Enumerable.Repeat(float.NaN, length).ToArray();
            op(result);
            return result;
        }
        finally { Im2ColGemmConv.GridForwards = saved; }
    }

    /// <summary>The GEMM paths the grid runs on here: AVX-512's wide tile where the CPU has it, and AVX2's 6×16 tile.</summary>
    private static IEnumerable<GemmPath> GridPaths() =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? [GemmPath.Native, GemmPath.Avx2] : [GemmPath.Avx2];

    [Avx2Fact]
    public void GridForwardAndDataGradientMatchTheReferenceAndThePackedPanelsBitForBit()
    {
        foreach (var path in GridPaths()) GemmPaths.With(path, () => GridMatchesReferenceAndPackedPanels(new Random(2424), path));
    }

    private static void GridMatchesReferenceAndPackedPanels(Random rng, GemmPath path)
    {
        int gridAdjoints = 0;
        for (int i = 0; i < 40; i++)
        {
            var p = NextGridGeometry(rng);
            var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
            var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
            var b = i % 2 == 0 ? ConvGeometryGen.Data(rng, p.COut) : [];
            var scale = ConvGeometryGen.Data(rng, p.COut);
            var shift = ConvGeometryGen.Data(rng, p.COut);
            var map = new ConvKit.Kernels.ConvEpilogue(i % 3 == 0 ? scale : null, i % 3 == 0 ? shift : null, Relu: i % 4 == 0);

            var grid = Run(true, y => Im2ColGemmConv.Forward(x, w, b, y, p, map), p.N * p.COut * p.OutPlane);
            var packed = Run(false, y => Im2ColGemmConv.Forward(x, w, b, y, p, map), grid.Length);
            Assert.True(packed.AsSpan().SequenceEqual(grid), $"{path} forward {p}: the grid's bits differ from the packed panels'");
            var reference = new float[grid.Length];
            ReferenceConv.Forward<float>(x, w, b, reference, p);
            map.Apply(reference, p);
            ConvGeometryGen.AssertClose(reference, grid, $"grid forward {p}");

            // The data gradient runs the grid when its flipped forward qualifies (few input channels per group).
            var q = Im2ColGemmConv.FlippedForward(p);
            if (q is { } flipped && Im2ColGemmConv.UsesGrid(flipped)) gridAdjoints++;
            var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
            var dxGrid = Run(true, dx => Im2ColGemmConv.Adjoint(dy, w, [], dx, p), x.Length);
            var dxPacked = Run(false, dx => Im2ColGemmConv.Adjoint(dy, w, [], dx, p), x.Length);
            Assert.True(dxPacked.AsSpan().SequenceEqual(dxGrid), $"{path} adjoint {p} (flipped {q}, grid {q is { } f && Im2ColGemmConv.UsesGrid(f)})");
            var dxRef = new float[x.Length];
            ReferenceConv.Adjoint<float>(dy, w, [], dxRef, p);
            ConvGeometryGen.AssertClose(dxRef, dxGrid, $"grid adjoint {p}");
        }
        Assert.True(gridAdjoints >= 10, $"{path}: only {gridAdjoints} of 40 data gradients ran on the grid");
    }

    [Avx2Fact]
    public void TheGridTakesOnlyTheLayersItWasMeasuredToWin()
    {
        foreach (var path in GridPaths()) GemmPaths.With(path, TakesOnlyMeasuredLayers);
        GemmPaths.With(GemmPath.Portable, () => Assert.False(Im2ColGemmConv.UsesGrid(SePlane)));                       // no SIMD kernel
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            bool wide = Gemm.WideTile;
            Gemm.WideTile = false;
            try { Assert.False(Im2ColGemmConv.UsesGrid(SePlane)); }                                                     // 16×16 tiles only
            finally { Gemm.WideTile = wide; }
        }
    }

    private static readonly Conv2dParams SePlane = new() { N = 64, CIn = 32, H = 14, W = 14, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 14, OutW = 14 };

    private static void TakesOnlyMeasuredLayers()
    {
        var sePlane = SePlane;
        Assert.True(Im2ColGemmConv.UsesGrid(sePlane));
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { N = 1 }));                                            // one image
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { COut = 128 }));                                       // many rows
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { H = 7, W = 7, OutH = 7, OutW = 7 }));                 // padding 2 of 9 columns
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { CIn = 1 }));                                          // a 9-row panel
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { H = 16, W = 16, OutH = 16, OutW = 16 }));             // whole slivers per row
        Assert.False(Im2ColGemmConv.UsesGrid(sePlane with { StrideH = 2, StrideW = 2, OutH = 7, OutW = 7 }));     // strided
    }
}
