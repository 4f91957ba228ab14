using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The implicit GEMM (<see cref="Im2ColPanel"/> packing straight from the image, bias fused into the micro-kernel)
/// against the reference on images wide enough to reach every packing path: whole 16-column slivers inside one output
/// row (with and without overhang at the edges), row-crossing and strided slivers (gathers), ragged last slivers, and
/// the portable packing under <see cref="Gemm.ForceScalar"/>; and the weight gradient from the transposed panel.
/// </summary>
[Collection(ForceScalarCollection.Name)]
public class ImplicitGemmConvTests
{
    private static Conv2dParams WideGeometry(Random rng) => ConvGeometryGen.Next(rng, maxH: 24, minW: 14, maxW: 60, maxStep: 3, maxCOut: 14);

    private static void ForwardMatches(Conv2dParams p, Random rng, bool withBias)
    {
        var x = ConvGeometryGen.AssertForwardMatchesReference(p, rng, withBias, Im2ColGemmConv.Forward, $"forward {p} bias={withBias} isa={Gemm.Isa}");

        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        var dwRef = new float[p.COut * p.ColRows];
        var dwFast = Enumerable.Repeat(float.NaN, dwRef.Length).ToArray();
        ReferenceConv.WeightGrad<float>(x, dy, dwRef, p);
        Im2ColGemmConv.WeightGrad(x, dy, dwFast, p);
        ConvGeometryGen.AssertClose(dwRef, dwFast, $"weight grad {p} isa={Gemm.Isa}");
    }

    /// <summary>'same'-width stride-1 convs (any kernel, dilation and split of the padding): row-crossing slivers are shifted masked loads.</summary>
    [Fact]
    public void SameWidthStrideOneMatchesReference()
    {
        var rng = new Random(8642);
        for (int iter = 0; iter < 120; iter++)
        {
            int kh = rng.Next(1, 6), kw = rng.Next(1, 6), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int h = rng.Next(1, 20), w = rng.Next(1, 20), padW = dw * (kw - 1), pl = rng.Next(0, padW + 1);
            int pt = rng.Next(0, 3), oh = Conv2dParams.ConvOutSize(h, pt + rng.Next(0, 3), kh, 1, dh);
            if (oh < 1) continue;
            var p = new Conv2dParams { N = rng.Next(1, 4), CIn = rng.Next(1, 6), H = h, W = w, COut = rng.Next(1, 10), KH = kh, KW = kw,
                                       DilationH = dh, DilationW = dw, PadTop = pt, PadLeft = pl, OutH = oh, OutW = w };
            ForwardMatches(p, rng, withBias: iter % 2 == 0);
        }
    }

    private static void AdjointMatches(Conv2dParams p, Random rng, bool withBias)
    {
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = withBias ? ConvGeometryGen.Data(rng, p.CIn) : [];
        var xRef = new float[p.N * p.CIn * p.InPlane];
        var xFast = Enumerable.Repeat(float.NaN, xRef.Length).ToArray();
        ReferenceConv.Adjoint<float>(dy, w, b, xRef, p);
        Im2ColGemmConv.Adjoint(dy, w, b, xFast, p);
        ConvGeometryGen.AssertClose(xRef, xFast, $"adjoint {p} bias={withBias} isa={Gemm.Isa}");
    }

    [Fact]
    public void PerImageAdjointMatchesReferenceOnWideImages()
    {
        var rng = new Random(97531);
        for (int iter = 0; iter < 150; iter++) AdjointMatches(WideGeometry(rng), rng, withBias: iter % 3 == 0);
    }

    /// <summary>
    /// Both ways to the stride-1 adjoint: the flipped forward from 8 input channels per group on, col2im below (the
    /// random geometries above have fewer than 5), each against the reference with groups, dilation and bias.
    /// </summary>
    [Fact]
    public void StrideOneAdjointTakesTheFlippedForwardFromEightChannelsAndCol2ImBelow()
    {
        var rng = new Random(8642);
        int flipped = 0, folded = 0;
        for (int iter = 0; iter < 120; iter++)
        {
            var g = ConvGeometryGen.Next(rng, maxH: 20, minW: 5, maxW: 40, maxStep: 3, maxCOut: 9);
            int cig = iter % 2 == 0 ? rng.Next(8, 13) : rng.Next(1, 8);
            var p = g with { CIn = g.Groups * cig, StrideH = 1, StrideW = 1,
                             OutH = Conv2dParams.ConvOutSize(g.H, 2 * g.PadTop, g.KH, 1, g.DilationH),
                             OutW = Conv2dParams.ConvOutSize(g.W, 2 * g.PadLeft, g.KW, 1, g.DilationW) };
            if (p.OutH < 1 || p.OutW < 1) continue;
            bool byFlip = Im2ColGemmConv.AdjointByFlippedForward(p) && Im2ColGemmConv.FlippedForward(p) is not null;
            Assert.Equal(cig >= 8, Im2ColGemmConv.AdjointByFlippedForward(p));
            if (byFlip) flipped++; else folded++;
            AdjointMatches(p, rng, withBias: iter % 3 == 0);
        }
        Assert.True(flipped > 30 && folded > 30, $"flipped {flipped}, folded {folded}");
    }

    /// <summary>
    /// 1×1 strided, unpadded kernels (ResNet's downsampling convs): the adjoint writes x once, zeros included, on the
    /// per-image path (planes of 256+) and the batched one, at strides 2 (eight values per step) and 3, with odd
    /// widths and an implied right pad.
    /// </summary>
    [Theory]
    [InlineData(2, 6, 56, 56, 2, 2, 0)]     // per image: 28×28 outputs
    [InlineData(3, 5, 29, 35, 2, 2, 0)]     // batched, odd sizes
    [InlineData(2, 4, 40, 41, 3, 2, 1)]     // rectangular stride, one column of right padding
    [InlineData(1, 3, 33, 47, 2, 3, 0)]
    public void DownsamplingAdjointMatchesReference(int n, int channels, int h, int w, int sh, int sw, int padRight)
    {
        int oh = Conv2dParams.ConvOutSize(h, 0, 1, sh, 1), ow = Conv2dParams.ConvOutSize(w, padRight, 1, sw, 1);
        var p = new Conv2dParams { N = n, CIn = channels, H = h, W = w, COut = 7, KH = 1, KW = 1, StrideH = sh, StrideW = sw, OutH = oh, OutW = ow };
        Assert.True(ConvKit.Kernels.Cpu.Im2Col.Spreads(p));
        var rng = new Random(h * 100 + w);
        AdjointMatches(p, rng, withBias: true);
        AdjointMatches(p, rng, withBias: false);
    }

    /// <summary>Kernel == stride (the UNet's and FCN's up-convs): the fold is a plain scatter; near misses take the fold.</summary>
    [Theory]
    [InlineData(1, 8, 2, 2, 12, 9, 0, 1)]
    [InlineData(2, 6, 2, 2, 16, 16, 0, 1)]    // plane 256: several images on the per-image path
    [InlineData(1, 4, 3, 3, 5, 7, 0, 2)]      // grouped, 3x3 / s3
    [InlineData(1, 5, 2, 3, 6, 4, 0, 1)]      // rectangular kernel == stride
    [InlineData(1, 5, 2, 2, 6, 4, 1, 1)]      // padded: not a tiling
    public void TiledTransposedConvolutionMatchesReference(int n, int channels, int kh, int kw, int outH, int outW, int pad, int groups)
    {
        int h = outH * kh - (pad > 0 ? 2 * pad : 0), w = outW * kw - (pad > 0 ? 2 * pad : 0);
        var p = new Conv2dParams { N = n, CIn = channels * groups, H = h, W = w, COut = 3 * groups, KH = kh, KW = kw, StrideH = kh, StrideW = kw,
                                   PadTop = pad, PadLeft = pad, Groups = groups,
                                   OutH = Conv2dParams.ConvOutSize(h, 2 * pad, kh, kh, 1), OutW = Conv2dParams.ConvOutSize(w, 2 * pad, kw, kw, 1) };
        Assert.Equal(pad == 0, ConvKit.Kernels.Cpu.Im2Col.Tiles(p));
        var rng = new Random(kh * 100 + outW);
        AdjointMatches(p, rng, withBias: true);
        AdjointMatches(p with { H = h + 1 }, rng, withBias: false); // output_padding: the last row is left to the fold
    }

    /// <summary>Kernels at least 16 wide (the FCN's 64×64/s32 up-conv, scaled down) fold from colᵀ, a kernel row at a time.</summary>
    [Theory]
    [InlineData(1, 3, 16, 16, 8, 4, 3, 4)]    // FCN-like: kernel 2·stride, padding stride/2
    [InlineData(2, 2, 17, 20, 6, 5, 4, 3)]    // odd sizes, rectangular kernel, several images
    [InlineData(1, 4, 3, 18, 2, 1, 5, 2)]     // short and wide, grouped
    public void WideKernelTransposedConvolutionMatchesReference(int n, int channels, int kh, int kw, int stride, int pad, int inSize, int groups)
    {
        int oh = (inSize - 1) * stride - 2 * pad + kh, ow = (inSize - 1) * stride - 2 * pad + kw;
        var p = new Conv2dParams { N = n, CIn = channels * groups, H = oh, W = ow, COut = 2 * groups, KH = kh, KW = kw, StrideH = stride, StrideW = stride,
                                   PadTop = pad, PadLeft = pad, Groups = groups, OutH = inSize, OutW = inSize };
        Assert.True(ConvKit.Kernels.Cpu.Im2Col.FoldsTransposed(p));
        AdjointMatches(p, new Random(kh * 31 + kw), withBias: true);
    }

    [Fact]
    public void ImplicitGemmMatchesReferenceOnWideImages()
    {
        var rng = new Random(2468);
        int implicitCount = 0;
        for (int iter = 0; iter < 250; iter++)
        {
            var p = WideGeometry(rng);
            if (Im2ColGemmConv.PerImage(p)) implicitCount++;
            ForwardMatches(p, rng, withBias: iter % 2 == 0);
        }
        Assert.True(implicitCount > 100, $"only {implicitCount} of 250 geometries took the implicit path");
    }

    [Theory]
    [InlineData(GemmPath.Avx2)]
    [InlineData(GemmPath.Portable)]
    public void OtherKernelsMatchReference(GemmPath path)
    {
        var rng = new Random(1357 + (int)path);
        GemmPaths.With(path, () =>
        {
            for (int iter = 0; iter < 80; iter++) ForwardMatches(WideGeometry(rng) with { N = 1 }, rng, withBias: iter % 2 == 1);
        });
    }

    /// <summary>
    /// Shapes that split the threaded GEMM along m (more output channels than columns) and along n, with bias; and small
    /// planes of several images packed side by side, where slivers straddle two images.
    /// </summary>
    [Theory]
    [InlineData(1, 8, 5, 5, 200, 3, 1, 1)]      // m = 200 > n = 25: stripes over rows, bias offset per stripe
    [InlineData(1, 16, 40, 40, 40, 3, 1, 1)]    // n = 1600: stripes over columns
    [InlineData(4, 8, 17, 19, 12, 3, 1, 1)]     // several images over the thread pool, plane 323 >= 256
    [InlineData(1, 3, 61, 61, 16, 7, 2, 3)]     // the ResNet stem's shape, scaled down: strided gathers
    [InlineData(2, 24, 16, 16, 24, 1, 1, 0)]    // pointwise: x itself is B
    [InlineData(1, 10, 33, 47, 9, 1, 2, 0)]     // strided 1x1 (ResNet downsample)
    [InlineData(6, 32, 14, 14, 40, 3, 1, 1)]    // ResNet layer3-like: 196-plane images side by side
    [InlineData(5, 16, 7, 7, 24, 3, 1, 1)]      // 7x7 plane: every sliver crosses rows and images
    [InlineData(3, 8, 9, 11, 10, 3, 2, 1)]      // strided, side by side
    public void ThreadedShapesMatchReference(int n, int cIn, int h, int w, int cOut, int k, int stride, int pad)
    {
        int oh = Conv2dParams.ConvOutSize(h, 2 * pad, k, stride, 1), ow = Conv2dParams.ConvOutSize(w, 2 * pad, k, stride, 1);
        var p = new Conv2dParams { N = n, CIn = cIn, H = h, W = w, COut = cOut, KH = k, KW = k, StrideH = stride, StrideW = stride,
                                   PadTop = pad, PadLeft = pad, OutH = oh, OutW = ow };
        var rng = new Random(n * 1000 + cOut);
        ForwardMatches(p, rng, withBias: true);
        ForwardMatches(p, rng, withBias: false);
    }

    /// <summary>
    /// Weight gradients whose per-image GEMMs are too small to split run fixed chunks of images in parallel, each into
    /// its own partial dW: against the reference, for 3×3, pointwise and grouped layers, image counts that do and do not
    /// divide into the chunks, and two that make a single chunk each.
    /// </summary>
    [Fact]
    public void ChunkedWeightGradientsMatchTheReference()
    {
        var rng = new Random(4321);
        foreach (var p in new[]
        {
            new Conv2dParams { N = 64, CIn = 1, H = 28, W = 28, COut = 32, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 28, OutW = 28 },
            new Conv2dParams { N = 11, CIn = 3, H = 18, W = 19, COut = 5, KH = 3, KW = 3, OutH = 16, OutW = 17 },
            new Conv2dParams { N = 9, CIn = 4, H = 16, W = 20, COut = 6, KH = 1, KW = 1, OutH = 16, OutW = 20 },
            new Conv2dParams { N = 5, CIn = 4, H = 18, W = 18, COut = 4, KH = 3, KW = 3, Groups = 2, OutH = 16, OutW = 16 },
            new Conv2dParams { N = 2, CIn = 2, H = 16, W = 16, COut = 3, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 16, OutW = 16 },
        })
        {
            Assert.True(Im2ColGemmConv.PerImage(p));
            if (Engine.Threads > 1) Assert.Equal(Math.Min(p.N, 8), Im2ColGemmConv.WeightGradChunks(p));
            var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
            var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
            var dwFast = Enumerable.Repeat(float.NaN, p.COut * p.ColRows).ToArray();
            Im2ColGemmConv.WeightGrad(x, dy, dwFast, p);
            // Sums of up to 50,176 products: against a double-precision reference, within float rounding of a sum of
            // that many terms (1e-5·√terms of Σ|terms|, the GEMM tests' bound), whatever order the chunks add in.
            var dwRef = new double[dwFast.Length];
            var mag = new double[dwFast.Length];
            ReferenceConv.WeightGrad<double>(x.Select(v => (double)v).ToArray(), dy.Select(v => (double)v).ToArray(), dwRef, p);
            ReferenceConv.WeightGrad<double>(x.Select(v => (double)Math.Abs(v)).ToArray(), dy.Select(v => (double)Math.Abs(v)).ToArray(), mag, p);
            double terms = (double)p.N * p.OutPlane;
            for (int i = 0; i < dwFast.Length; i++)
                Assert.True(Math.Abs(dwFast[i] - dwRef[i]) <= 1e-5 * Math.Sqrt(terms) * mag[i] + 1e-30,
                            $"chunked weight grad {p}: element {i} is {dwFast[i]}, reference {dwRef[i]} (Σ|terms| {mag[i]})");
        }
        // A GEMM big enough to split keeps one chunk: its images run one after another, each on every thread.
        Assert.Equal(1, Im2ColGemmConv.WeightGradChunks(new Conv2dParams { N = 8, CIn = 64, H = 56, W = 56, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 56, OutW = 56 }));
    }
}
