using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>Every fast convolution path against the reference loops, on random geometries.</summary>
public class ConvAlgorithmTests
{
    private delegate void WeightKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p);

    /// <summary>One fast kernel family (forward, adjoint, weight gradient) against the reference on random data for <paramref name="p"/>.</summary>
    private static void MatchesReference(Conv2dParams p, Random rng, ConvKernel forward, ConvKernel adjoint, WeightKernel weightGrad, string name)
    {
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = ConvGeometryGen.Data(rng, p.COut);
        var bIn = ConvGeometryGen.Data(rng, p.CIn);
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);

        var yRef = new float[dy.Length]; var yFast = new float[dy.Length];
        ReferenceConv.Forward<float>(x, w, b, yRef, p);
        forward(x, w, b, yFast, p);
        ConvGeometryGen.AssertClose(yRef, yFast, $"{name} forward {p}");

        var xRef = new float[x.Length]; var xFast = new float[x.Length];
        ReferenceConv.Adjoint<float>(dy, w, bIn, xRef, p);
        adjoint(dy, w, bIn, xFast, p);
        ConvGeometryGen.AssertClose(xRef, xFast, $"{name} adjoint {p}");

        var dwRef = new float[w.Length]; var dwFast = new float[w.Length];
        ReferenceConv.WeightGrad<float>(x, dy, dwRef, p);
        weightGrad(x, dy, dwFast, p);
        ConvGeometryGen.AssertClose(dwRef, dwFast, $"{name} weight grad {p}");
    }

    [Fact]
    public void Im2ColGemmMatchesReferenceOnRandomGeometries()
    {
        var rng = new Random(1234);
        for (int iter = 0; iter < 400; iter++)
            MatchesReference(ConvGeometryGen.Next(rng), rng, Im2ColGemmConv.Forward, Im2ColGemmConv.Adjoint, Im2ColGemmConv.WeightGrad, "im2col");
    }

    [Fact]
    public void DepthwiseKernelMatchesReferenceOnRandomDepthwiseGeometries()
    {
        var rng = new Random(4321);
        for (int iter = 0; iter < 300; iter++)
        {
            int channels = rng.Next(2, 7), mult = rng.Next(1, 4);
            var p = ConvGeometryGen.Next(rng) with { CIn = channels, COut = channels * mult, Groups = channels };
            Assert.True(DepthwiseConv.Applies(p));
            MatchesReference(p, rng, DepthwiseConv.Forward, DepthwiseConv.Adjoint, DepthwiseConv.WeightGrad, "depthwise");
        }
    }

    [Fact]
    public void DispatcherPicksDepthwiseOnlyForOneInputChannelPerGroup()
    {
        var dw = new Conv2dParams { N = 1, CIn = 8, H = 5, W = 5, COut = 16, KH = 3, KW = 3, Groups = 8, OutH = 3, OutW = 3 };
        Assert.Equal(ConvAlgorithm.Depthwise, ConvKit.Kernels.ConvKernels.Choose(dw));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKit.Kernels.ConvKernels.Choose(dw with { CIn = 16, Groups = 8 }));
        using (Engine.Force(ConvAlgorithm.Depthwise))
            Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKit.Kernels.ConvKernels.Choose(dw with { Groups = 1, CIn = 8, COut = 8 }));
        using (Engine.Force(ConvAlgorithm.Reference))
            Assert.Equal(ConvAlgorithm.Reference, ConvKit.Kernels.ConvKernels.Choose(dw));
    }

    /// <summary>
    /// Auto's inference F(4×4) asks for ≥ 24 input channels per group: below that its GEMMs' k is too short for the 4×
    /// saving to pay for the transforms (paired A/B: N1 C16 112×112 K64 0.95, C8 0.65; C24 1.23).
    /// </summary>
    [Theory]
    [InlineData(8, ConvAlgorithm.Im2ColGemm)]
    [InlineData(16, ConvAlgorithm.Im2ColGemm)]
    [InlineData(23, ConvAlgorithm.Im2ColGemm)]
    [InlineData(24, ConvAlgorithm.Winograd)]
    [InlineData(32, ConvAlgorithm.Winograd)]
    public void AutoKeepsFewChannelInferenceLayersOnIm2Col(int channels, ConvAlgorithm expected)
    {
        var p = new Conv2dParams { N = 1, CIn = channels, H = 112, W = 112, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 112, OutW = 112 };
        Assert.Equal(expected, ConvKit.Kernels.ConvKernels.Choose(p, inference: true));
        // Per group: two groups of 16 input channels each stay on im2col.
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKit.Kernels.ConvKernels.Choose(p with { CIn = 32, COut = 64, Groups = 2 }, inference: true));
    }

    /// <summary>
    /// Winograd F(4×4) is an inference algorithm in Auto: a result that feeds a gradient takes F(2×2) (smaller rounding)
    /// where that wins, else the direct arithmetic.
    /// </summary>
    [Fact]
    public void AutoPicksWinogradF4OnlyForInference()
    {
        var big = new Conv2dParams { N = 1, CIn = 64, H = 56, W = 56, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 56, OutW = 56 };
        Assert.Equal(ConvAlgorithm.Winograd, ConvKit.Kernels.ConvKernels.Choose(big, inference: true));
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKit.Kernels.ConvKernels.Choose(big, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKit.Kernels.ConvKernels.Choose(big with { CIn = 16 }, inference: false));
        using (Engine.Force(ConvAlgorithm.Winograd))
            Assert.Equal(ConvAlgorithm.Winograd, ConvKit.Kernels.ConvKernels.Choose(big, inference: false));
        using (Engine.Force(ConvAlgorithm.Winograd2))
            Assert.Equal(ConvAlgorithm.Winograd2, ConvKit.Kernels.ConvKernels.Choose(big, inference: true));
        bool inBackward = false;
        var x = TestUtil.Random(new Random(3), 1, 2, 4, 4).RequiresGrad_();
        var y = x * 2f;
        var hooked = Autograd.Record(Tensor.Zeros(1, 2, 4, 4), [y], g => { inBackward = Autograd.InBackward; return [g]; });
        hooked.Sum().Backward();
        Assert.True(inBackward);
        Assert.False(Autograd.InBackward);
    }

    [Fact]
    public void PointwiseConvolutionTakesTheDirectGemmPathAndAgrees()
    {
        var rng = new Random(7);
        var p = new Conv2dParams { N = 2, CIn = 6, H = 5, W = 7, COut = 4, KH = 1, KW = 1, Groups = 2, OutH = 5, OutW = 7 };
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var yRef = new float[p.N * p.COut * p.OutPlane]; var yFast = new float[yRef.Length];
        ReferenceConv.Forward<float>(x, w, default, yRef, p);
        Im2ColGemmConv.Forward(x, w, default, yFast, p);
        ConvGeometryGen.AssertClose(yRef, yFast, "pointwise");
    }

    /// <summary>The transposed convolution is the adjoint of the convolution: ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩.</summary>
    [Fact]
    public void TransposedConvolutionIsTheAdjointOfConvolution()
    {
        var seeds = Gen.Choose(0, int.MaxValue - 1).ToArbitrary();
        Prop.ForAll(seeds, seed =>
        {
            var rng = new Random(seed);
            var p = ConvGeometryGen.Next(rng);
            var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
            var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
            var y = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
            foreach (var algorithm in TestUtil.Algorithms)
            {
                using var _ = Engine.Force(algorithm);
                var cx = Tensor.FromArray(x, p.N, p.CIn, p.H, p.W);
                var cw = Tensor.FromArray(w, p.COut, p.CInPerGroup, p.KH, p.KW);
                var cy = Tensor.FromArray(y, p.N, p.COut, p.OutH, p.OutW);
                double lhs = Dot(ConvOps.Forward(cx, cw, null, p).ToArray(), y);
                double rhs = Dot(x, ConvOps.Adjoint(cy, cw, null, p).ToArray());
                if (Math.Abs(lhs - rhs) > 1e-4 * Math.Max(1, Math.Abs(lhs))) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void PublicTransposedConvIsAdjointOfPublicConvWithOutputPaddingAndGroups()
    {
        var rng = new Random(99);
        var x = TestUtil.Random(rng, 2, 4, 10, 9);
        var w = TestUtil.Random(rng, 6, 2, 3, 2);
        var y = F.Conv2d(x, w, stride: (2, 3), padding: (1, 0), dilation: (2, 1), groups: 2);
        var g = TestUtil.Random(rng, y.Shape.ToArray());
        // Strided conv drops the remainder rows; conv_transpose2d needs output_padding (1, 1) to land back on 10×9.
        var back = F.ConvTranspose2d(g, w, stride: (2, 3), padding: (1, 0), outputPadding: (1, 1), groups: 2, dilation: (2, 1));
        Assert.Equal(x.Shape, back.Shape);
        double lhs = Dot(y.ToArray(), g.ToArray()), rhs = Dot(x.ToArray(), back.ToArray());
        Assert.True(Math.Abs(lhs - rhs) < 1e-3, $"<conv(x), y> = {lhs}, <x, conv_t(y)> = {rhs}");
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
