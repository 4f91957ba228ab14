using ConvKit.Nn;
using ConvKit.Vision.Models;
using Xunit;
using static ConvKit.Vision.Tests.Models.ModelFixture;

namespace ConvKit.Vision.Tests.Models;

/// <summary>The bilinear 2× upsampler against the tutorial's ConvTranspose2d(C, C, 4, padding 1, stride 2) with bilinear_kernel weights.</summary>
public class BilinearUpsamplerTests
{
    [Fact]
    public void KernelEqualsTheTutorialsBilinearKernel()
    {
        Matches(Get("upsample", "kernel4"), Init.BilinearKernel(2, 2, 4), 0, "bilinear_kernel(2, 2, 4)");
        Matches(Get("upsample", "kernel5"), Init.BilinearKernel(1, 1, 5), 0, "bilinear_kernel(1, 1, 5)");
    }

    [Fact]
    public void ImagesAndBatchesMatchPyTorchForwardAndBackward()
    {
        foreach (var c in Get("upsample", "cases").EnumerateArray())
        {
            var shape = Ints(c.GetProperty("input_shape"));
            var x = Input(c).RequiresGrad_();
            var up = new BilinearUpsampler(shape[^3]);
            var y = up.Forward(x);
            Matches(c.GetProperty("output"), y, 1e-5, $"upsample {string.Join("x", shape)}");
            (y * Seeded(y.Shape.ToArray(), c.GetProperty("grad_output_seed").GetUInt64())).Sum().Backward();
            Matches(c.GetProperty("input_grad"), x.Grad!, 1e-5, "input grad");
            Matches(c.GetProperty("output"), BilinearUpsampler.Upsample2x(x.Detach()), 1e-5, "Upsample2x");
        }
    }

    [Fact]
    public void InteriorOfAnEvenFactorUpsamplingIsBilinearInterpolation()
    {
        // A linear ramp stays a linear ramp away from the zero-padded border.
        var x = Tensor.FromArray(Enumerable.Range(0, 36).Select(i => (float)(i % 6 + 2 * (i / 6))).ToArray(), 1, 1, 6, 6);
        var y = new BilinearUpsampler(1, 4).Forward(x);
        Assert.Equal([1, 1, 24, 24], y.Shape);
        var v = y.ToArray();
        float At(int r, int c) => v[r * 24 + c];
        Assert.Equal(At(8, 9) - At(8, 8), At(8, 10) - At(8, 9), 4);
        Assert.Equal(At(9, 8) - At(8, 8), 2 * (At(8, 9) - At(8, 8)), 4);
    }

    [Fact]
    public void BadArgumentsThrowArgumentException()
    {
        Assert.Contains("channels", Assert.Throws<ArgumentException>(() => new BilinearUpsampler(0)).Message);
        Assert.Contains("even", Assert.Throws<ArgumentException>(() => new BilinearUpsampler(3, 3)).Message);
        Assert.Contains("[3, H, W]", Assert.Throws<ArgumentException>(() => new BilinearUpsampler(3).Forward(Tensor.Zeros(2, 4, 4))).Message);
        Assert.Throws<ArgumentException>(() => BilinearUpsampler.Upsample2x(Tensor.Zeros(4, 4)));
    }
}
