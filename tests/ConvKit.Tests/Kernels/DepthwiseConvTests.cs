using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
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
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardMatchesReferenceOnWidePlanes(bool scalar)
    {
        var rng = new Random(scalar ? 11 : 12);
        bool saved = Gemm.ForceScalar;
        Gemm.ForceScalar = scalar;
        try
        {
            for (int iter = 0; iter < 150; iter++)
            {
                int channels = rng.Next(1, 5), mult = rng.Next(1, 3);
                var p = ConvGeometryGen.Next(rng, maxH: 12, minW: 1, maxW: 80) with { CIn = channels * 2, COut = channels * 2 * mult, Groups = channels * 2 };
                Assert.True(DepthwiseConv.Applies(p));
                var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
                var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
                var b = iter % 2 == 0 ? ConvGeometryGen.Data(rng, p.COut) : [];
                var yRef = new float[p.N * p.COut * p.OutPlane];
                var yFast = Enumerable.Repeat(float.NaN, yRef.Length).ToArray();
                ReferenceConv.Forward<float>(x, w, b, yRef, p);
                DepthwiseConv.Forward(x, w, b, yFast, p);
                for (int i = 0; i < yRef.Length; i++)
                    Assert.True(Math.Abs(yRef[i] - yFast[i]) <= 1e-4 * Math.Max(1, Math.Abs(yRef[i])),
                        $"element {i} is {yFast[i]}, reference {yRef[i]}; {p} scalar={scalar}");
            }
        }
        finally { Gemm.ForceScalar = saved; }
    }
}
