using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The stride-1 adjoint's GEMM packs its A straight from the weights, read flipped (<see cref="FlippedWeights"/>): it must
/// give the bits of the flipped copy it replaced, on every GEMM path (AVX-512, AVX2, portable; packed, grid and 1×1
/// panels; per-image and batched; split along m or n; K slices that cut a filter's taps), and the reference's values.
/// </summary>
// FlipInPacking and the GEMM's ISA switches are process-wide.
[Collection(ForceScalarCollection.Name)]
public class FlippedWeightsTests
{
    private static float[] Adjoint(bool inPacking, float[] dy, float[] w, float[] bias, Conv2dParams p)
    {
        bool saved = Im2ColGemmConv.FlipInPacking;
        Im2ColGemmConv.FlipInPacking = inPacking;
        try
        {
            var dx = Enumerable.Repeat(float.NaN, p.N * p.CIn * p.InPlane).ToArray();
            Im2ColGemmConv.Adjoint(dy, w, bias, dx, p);
            return dx;
        }
        finally { Im2ColGemmConv.FlipInPacking = saved; }
    }

    public static IEnumerable<object[]> Paths() => GemmPaths.All.Select(path => new object[] { path });

    [Theory]
    [MemberData(nameof(Paths))]
    public void TheAdjointReadsTheWeightsFlippedWithTheBitsOfAFlippedCopy(GemmPath path)
    {
        var rng = new Random(99);
        var cases = new List<Conv2dParams>
        {
            new() { N = 1, CIn = 40, H = 9, W = 11, COut = 24, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 9, OutW = 11 },         // per image, split m, ragged sliver
            new() { N = 1, CIn = 64, H = 7, W = 7, COut = 100, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 7, OutW = 7 },         // K slices cut filters (900 taps)
            new() { N = 3, CIn = 20, H = 6, W = 7, COut = 36, KH = 3, KW = 2, PadTop = 1, PadLeft = 0, OutH = 6, OutW = 6 },           // batched images, 6 taps
            new() { N = 2, CIn = 48, H = 14, W = 14, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 14, OutW = 14 },      // the grid (AVX-512)
            new() { N = 1, CIn = 24, H = 20, W = 20, COut = 16, KH = 1, KW = 1, OutH = 20, OutW = 20 },                               // 1×1
            new() { N = 2, CIn = 18, H = 12, W = 10, COut = 12, KH = 5, KW = 3, PadTop = 4, PadLeft = 2, DilationH = 2, OutH = 12, OutW = 10 }, // dilated, 15 taps
            new() { N = 1, CIn = 32, H = 24, W = 24, COut = 30, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, Groups = 2, OutH = 24, OutW = 24 },  // groups, per image
        };
        GemmPaths.With(path, () =>
        {
            foreach (var p in cases)
            {
                Assert.True(Im2ColGemmConv.AdjointByFlippedForward(p) && Im2ColGemmConv.FlippedForward(p) is not null, $"{p} is not a flipped-forward adjoint");
                var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
                var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
                var bias = ConvGeometryGen.Data(rng, p.CIn);
                var packed = Adjoint(true, dy, w, bias, p);
                var copied = Adjoint(false, dy, w, bias, p);
                Assert.True(copied.AsSpan().SequenceEqual(packed), $"{path} {p}: reading the weights flipped changed the bits");
                var reference = new float[packed.Length];
                ReferenceConv.Adjoint<float>(dy, w, bias, reference, p);
                ConvGeometryGen.AssertClose(reference, packed, $"{path} adjoint {p}");
            }
        });
    }
}
