using ConvKit.Kernels.Cpu;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The depthwise forward's register path (AVX2, strides 1 and 2: 32 or 8 outputs per step, clipped loads at the edges,
/// partial last vectors) and its row-by-row fallback (forced through <see cref="Gemm.ForceScalar"/>, and strides above 2)
/// against the reference on planes wide enough to take both.
/// </summary>
[Collection(ForceScalarCollection.Name)]
public class DepthwiseConvTests
{
    [Theory]
    [InlineData(GemmPath.Native)]
    [InlineData(GemmPath.Portable)]
    public void ForwardMatchesReferenceOnWidePlanes(GemmPath path)
    {
        var rng = new Random(path == GemmPath.Portable ? 11 : 12);
        GemmPaths.With(path, () =>
        {
            for (int iter = 0; iter < 150; iter++)
            {
                int channels = rng.Next(1, 5), mult = rng.Next(1, 3);
                var p = ConvGeometryGen.Next(rng, maxH: 12, minW: 1, maxW: 80) with { CIn = channels * 2, COut = channels * 2 * mult, Groups = channels * 2 };
                Assert.True(DepthwiseConv.Applies(p));
                MatchesReference(p, rng, bias: iter % 2 == 0, $"path={path}");
            }
        });
    }

    /// <summary>The 3×3 path: horizontal stride 1 or 2, any vertical stride, padding up to 2 on each side and vertical dilation, channel multipliers, rows from 16 outputs up.</summary>
    [Fact]
    public void ThreeByThreeMatchesReference()
    {
        var rng = new Random(13);
        for (int iter = 0; iter < 200; iter++)
        {
            int channels = rng.Next(1, 4), mult = rng.Next(1, 3), sw = rng.Next(1, 3), sh = rng.Next(1, 4), dh = rng.Next(1, 3);
            int pt = rng.Next(0, 3), pb = rng.Next(0, 3), pl = rng.Next(0, 3), pr = rng.Next(0, 3);
            int h = rng.Next(2 * dh + 1, 14), w = rng.Next(16 * sw + 2, 90);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, 3, sh, dh), ow = Conv2dParams.ConvOutSize(w, pl + pr, 3, sw, 1);
            if (oh < 1 || ow < 16) continue;
            var p = new Conv2dParams
            {
                N = rng.Next(1, 3), CIn = channels, H = h, W = w, COut = channels * mult, KH = 3, KW = 3, StrideH = sh, StrideW = sw,
                PadTop = pt, PadLeft = pl, DilationH = dh, Groups = channels, OutH = oh, OutW = ow,
            };
            MatchesReference(p, rng, bias: iter % 2 == 0, "3×3");
        }
    }

    private static void MatchesReference(Conv2dParams p, Random rng, bool bias, string what) =>
        ConvGeometryGen.AssertForwardMatchesReference(p, rng, bias, DepthwiseConv.Forward, $"{p} {what}");
}
