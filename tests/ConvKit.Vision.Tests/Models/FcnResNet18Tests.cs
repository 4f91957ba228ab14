using ConvKit.Nn;
using ConvKit.Vision.Models;
using Xunit;
using static ConvKit.Vision.Tests.Models.ModelFixture;

namespace ConvKit.Vision.Tests.Models;

/// <summary>FCN-ResNet18 against the tutorial's network (peer fcn_resnet18 + bilinear kernel) and output sizes for any input.</summary>
public class FcnResNet18Tests
{
    [Fact]
    public void MatchesTheTutorialNetworkNamesInitAndForward()
    {
        var c = Get("fcn", "fcn21");
        var m = Build(c, () => new FcnResNet18());
        Assert.Contains("transpose_conv.weight", m.NamedParameters().Select(p => p.Name));
        Assert.Equal(Init.BilinearKernel(21, 21, 64).ToArray(), m.TransposeConv.Weight.ToArray());
        CheckModel(c, m, initTol: 1e-6); // kaiming_normal_ trunk: see ModelFixture.CheckInitialState
    }

    [Fact]
    public void GradientsMatchTheTutorialNetwork()
    {
        var c = Get("fcn", "fcn5_grad");
        CheckForward(c, Build(c, () => new FcnResNet18(5)));
        CheckGrads(c, Build(c, () => new FcnResNet18(5)));
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(37, 23)]
    [InlineData(1, 1)]
    [InlineData(33, 96)]
    public void OutputHasTheInputSize(int h, int w)
    {
        var m = new FcnResNet18(4, inChannels: 1);
        m.Eval();
        using (Autograd.NoGrad()) Assert.Equal([2, 4, h, w], m.Forward(Seeded([2, 1, h, w], 3)).Shape);
    }

    [Fact]
    public void NonMultipleSizesAreThePaddedInputCropped()
    {
        var m = new FcnResNet18(3);
        m.Eval();
        var x = Seeded([1, 3, 40, 27], 4);
        using (Autograd.NoGrad())
        {
            var padded = m.Forward(F.Pad(x, [0, 5, 0, 24]));
            Close(padded.Narrow(2, 0, 40).Narrow(3, 0, 27).Contiguous().ToArray(), m.Forward(x).ToArray(), 0, "cropped");
        }
    }

    [Fact]
    public void BadArgumentsThrowArgumentException()
    {
        Assert.Contains("numClasses", Assert.Throws<ArgumentException>(() => new FcnResNet18(0)).Message);
        Assert.Contains("[N, 3, H, W]", Assert.Throws<ArgumentException>(() => new FcnResNet18(2).Forward(Tensor.Zeros(3, 32, 32))).Message);
    }
}
