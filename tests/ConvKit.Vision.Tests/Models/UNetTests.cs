using System.Text.Json;
using ConvKit.Nn;
using ConvKit.Vision.Models;
using Xunit;
using static ConvKit.Vision.Tests.Models.ModelFixture;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// UNet against PyTorch: SeedUNet (shared/peer) for the default layout (names, seeded init, forward, gradients),
/// and the generator's RefUNet transcription for odd sizes, other depths, sigmoid attention and the atrous pyramid.
/// </summary>
public class UNetTests
{
    private static JsonElement Case(string key) => Get("unet", key);

    private static UNet Build(string key, Func<UNet> build) => ModelFixture.Build(Case(key), build);

    [Fact]
    public void DefaultUNetHasSeedUNetNamesAndSeededInitialisation()
    {
        var m = Build("seedunet", () => new UNet());
        CheckNames(Case("seedunet"), m);
        CheckInitialState(Case("seedunet"), m);
    }

    [Fact]
    public void DefaultUNetForwardMatchesSeedUNetInTrainAndEvalMode() =>
        CheckForward(Case("seedunet"), Build("seedunet", () => new UNet()));

    [Fact]
    public void SmallWidthSeedUNetForwardAndGradientsMatchOnANonSquareInput()
    {
        Func<UNet> build = () => new UNet(3, 2, [16, 32, 64, 128, 256]);
        CheckNames(Case("seedunet_small"), Build("seedunet_small", build));
        CheckForward(Case("seedunet_small"), Build("seedunet_small", build));
        CheckGrads(Case("seedunet_small"), Build("seedunet_small", build));
    }

    public static TheoryData<string> Variants => ["odd_depth4", "tiny_depth3", "depth1", "aspp_sigmoid", "aspp_softmax", "conv_sigmoid"];

    private static UNet Variant(string key) => Build(key, key switch
    {
        "odd_depth4" => () => new UNet(3, 3, [16, 32, 64, 128]),
        "tiny_depth3" => () => new UNet(1, 2, [8, 16, 32]),
        "depth1" => () => new UNet(2, 4, [8]),
        "aspp_sigmoid" => () => new UNet(3, 2, [8, 16, 32], PyramidKind.Atrous, AttentionKind.Sigmoid),
        "aspp_softmax" => () => new UNet(3, 2, [16, 32], PyramidKind.Atrous, AttentionKind.Softmax),
        "conv_sigmoid" => () => new UNet(3, 2, [8, 16, 32], PyramidKind.ConvStack, AttentionKind.Sigmoid),
        _ => throw new ArgumentException(key),
    });

    [Theory]
    [MemberData(nameof(Variants))]
    public void VariantMatchesPyTorchTranscription(string key)
    {
        var c = Case(key);
        CheckModel(c, Variant(key));
        CheckGrads(c, Variant(key));
    }

    [Theory]
    [InlineData(37, 23)]
    [InlineData(1, 1)]
    [InlineData(1, 7)]
    [InlineData(2, 3)]
    [InlineData(31, 33)]
    [InlineData(64, 64)]
    public void OutputHasTheInputSizeForAnySize(int h, int w)
    {
        UNet m;
        using (Generator.Use(new Generator(0))) m = UNet.Small(3, 5);
        var x = Seeded([2, 3, h, w], 7);
        Assert.Equal([2, 5, h, w], m.Forward(x).Shape);
        m.Eval();
        Assert.Equal([1, 5, h, w], m.Forward(x.Narrow(0, 0, 1)).Shape);
    }

    [Fact]
    public void SeedUNetStateDictLoadsByName()
    {
        UNet a, b;
        using (Generator.Use(new Generator(1))) a = new UNet(3, 2, [16, 32, 64, 128, 256]);
        using (Generator.Use(new Generator(2))) b = new UNet(3, 2, [16, 32, 64, 128, 256]);
        var (missing, unexpected) = b.LoadStateDict(a.StateDict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        CheckForward(Case("seedunet_small"), b);
    }

    [Fact]
    public void SmallPresetUsesSmallWidths()
    {
        var m = UNet.Small(1, 3);
        Assert.Equal([16, 32, 64, 128], m.Widths);
        Assert.Equal([16, 1, 3, 3], m.Enc[0][0] is Sequential s && s[0] is Conv2d c ? c.Weight.Shape : []);
        Assert.Equal(3, m.Up.Count);
        Assert.Equal([3, 16, 1, 1], m.Out.Weight.Shape);
    }

    [Fact]
    public void BadArgumentsThrowArgumentException()
    {
        Assert.Contains("widths", Assert.Throws<ArgumentException>(() => new UNet(3, 2, [])).Message);
        Assert.Contains("widths", Assert.Throws<ArgumentException>(() => new UNet(3, 2, [8, 0])).Message);
        Assert.Contains("inChannels", Assert.Throws<ArgumentException>(() => new UNet(0, 2, [8])).Message);
        Assert.Contains("numClasses", Assert.Throws<ArgumentException>(() => new UNet(3, -1, [8])).Message);
        Assert.Throws<ArgumentException>(() => new UNet(3, 2, [8], (PyramidKind)7));
        Assert.Throws<ArgumentException>(() => new UNet(3, 2, [8], attention: (AttentionKind)7));
        var m = new UNet(3, 2, [8, 16]);
        Assert.Contains("[N, 3, H, W]", Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(1, 4, 8, 8))).Message);
        Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(3, 8, 8)));
    }

    [Fact]
    public void AttentionWeightsAreASoftmaxOverChannelsOrASigmoidGate()
    {
        var x = Seeded([2, 16, 5, 4], 11);
        ChannelAttention soft, sig;
        using (Generator.Use(new Generator(3))) soft = new ChannelAttention(16);
        using (Generator.Use(new Generator(3))) sig = new ChannelAttention(16, AttentionKind.Sigmoid);
        Assert.Equal([2, 16, 1, 1], soft.Conv1.Weight.Shape);
        var ws = (soft.Forward(x) / x).Narrow(2, 0, 1).Narrow(3, 0, 1).Sum(1).ToArray();
        Assert.All(ws, v => Assert.Equal(1.0, v, 1e-5));
        var wg = (sig.Forward(x) / x).ToArray();
        Assert.All(wg, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal([1, 7, 1, 1], new ChannelAttention(7).Conv1.Weight.Shape);
    }
}
