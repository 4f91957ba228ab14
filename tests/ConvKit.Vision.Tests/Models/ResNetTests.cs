using System.Text.Json;
using ConvKit.Nn;
using ConvKit.Vision.Models;
using Xunit;
using static ConvKit.Vision.Tests.Models.ModelFixture;

namespace ConvKit.Vision.Tests.Models;

/// <summary>ResNet18/34 against torchvision, SE-ResNet18 against the generator's SEBasicBlock: names, seeded init, forwards, gradients.</summary>
public class ResNetTests
{
    private static JsonElement Case(string key) => Get("resnet", key);

    /// <summary>kaiming_normal_ weights agree with PyTorch's AVX2 normal_ to 1e-6 (see <see cref="CheckInitialState"/>).</summary>
    private const double KaimingNormalTol = 1e-6;

    [Fact]
    public void ResNet18MatchesTorchvisionNamesInitAndForward() => CheckModel(Case("resnet18"), Build(Case("resnet18"), () => ResNet.ResNet18()), KaimingNormalTol);

    [Fact]
    public void ResNet18GradientsMatchTorchvision()
    {
        var c = Case("resnet18_grad");
        CheckForward(c, Build(c, () => ResNet.ResNet18(10)));
        CheckGrads(c, Build(c, () => ResNet.ResNet18(10)));
    }

    [Fact]
    public void ResNet34MatchesTorchvisionNamesInitAndForward() => CheckModel(Case("resnet34"), Build(Case("resnet34"), () => ResNet.ResNet34(10)), KaimingNormalTol);

    [Fact]
    public void SEResNet18MatchesPyTorchDefinition()
    {
        var c = Case("se_resnet18");
        var m = Build(c, () => ResNet.SEResNet18(10));
        Assert.Contains("layer3.0.se.squeeze.weight", m.NamedParameters().Select(p => p.Name));
        Assert.Equal([16, 256, 1, 1], ((BasicBlock)m.Layer3[0]).SE!.Squeeze.Weight.Shape);
        CheckModel(c, m, KaimingNormalTol);
        CheckGrads(c, Build(c, () => ResNet.SEResNet18(10)));
    }

    [Theory]
    [InlineData(64, 64, 2, 2)]
    [InlineData(33, 17, 2, 1)]
    [InlineData(1, 1, 1, 1)]
    public void FeaturesAreTheTrunkAtOneThirtySecond(int h, int w, int fh, int fw)
    {
        var m = ResNet.ResNet18(7, inChannels: 1);
        m.Eval();
        var x = Seeded([1, 1, h, w], 5);
        Assert.Equal([1, 512, fh, fw], m.ForwardFeatures(x).Shape);
        Assert.Equal([1, 7], m.Forward(x).Shape);
        Assert.Equal(["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"], m.NamedChildren().Select(n => n.Name));
    }

    [Fact]
    public void ResNet34HasTorchvisionBlockCounts()
    {
        var m = ResNet.ResNet34();
        Assert.Equal([3, 4, 6, 3], new[] { m.Layer1, m.Layer2, m.Layer3, m.Layer4 }.Select(l => l.Count));
        Assert.Equal(21797672, m.ParameterCount());
        Assert.Equal(11689512, ResNet.ResNet18().ParameterCount());
    }

    [Fact]
    public void BadArgumentsThrowArgumentException()
    {
        Assert.Contains("four", Assert.Throws<ArgumentException>(() => new ResNet([2, 2, 2])).Message);
        Assert.Contains("numClasses", Assert.Throws<ArgumentException>(() => ResNet.ResNet18(0)).Message);
        Assert.Contains("seReduction", Assert.Throws<ArgumentException>(() => new ResNet([1, 1, 1, 1], seReduction: 0)).Message);
        Assert.Contains("downsample", Assert.Throws<ArgumentException>(() => new BasicBlock(64, 128, 2)).Message);
        Assert.Contains("[N, 3, H, W]", Assert.Throws<ArgumentException>(() => new ResNet([1, 1, 1, 1], 2).Forward(Tensor.Zeros(1, 1, 32, 32))).Message);
    }
}
