using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Cli.Tests;

public class VizCommandTests : CliTestBase
{
    [Theory]
    // enc.1.0 of unet-small is the stride-2 conv-BN-ReLU to 32 channels: [1, 32, 8, 8] on 16x16, tiles scaled 4x to 32 px.
    [InlineData(64, 6, 6)]
    [InlineData(5, 3, 2)]
    public void GridFollowsTheTilingRule(int maxChannels, int columns, int rows)
    {
        var (code, stdout, stderr) = Run("viz", "--checkpoint", UNetCheckpoint(), "--input", SaveImage("img.png", 16, 16, 3), "--layer", "enc.1.0",
            "--out", PathOf("grid.png"), "--max-channels", maxChannels.ToString());
        Assert.True(code == 0, stderr);
        Assert.Contains("output [1, 32, 8, 8]", stdout);
        var grid = ImageFile.Read(PathOf("grid.png"));
        Assert.Equal((columns * 32 + columns - 1, rows * 32 + rows - 1, 1), (grid.Width, grid.Height, grid.Channels));
    }

    [Fact]
    public void LayoutIsNearSquareWithIntegerUpscale()
    {
        Assert.Equal((6, 6, 4), FeatureGrid.Layout(32, 8, 8, 32));
        Assert.Equal((4, 4, 1), FeatureGrid.Layout(16, 40, 20, 32));
        Assert.Equal((3, 3, 3), FeatureGrid.Layout(7, 11, 5, 32));
        Assert.Equal((1, 1, 1), FeatureGrid.Layout(1, 2, 2, 0));
    }

    [Fact]
    public void ChannelsAreMinMaxNormalisedAndConstantOnesAreHalf()
    {
        var maps = Tensor.FromArray([-2, 0, 2, 6, 5, 5, 5, 5], 2, 2, 2);
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 1f, 0.5f, 0.5f, 0.5f, 0.5f }, FeatureGrid.NormalizeChannels(maps));
        var grid = FeatureGrid.Build(maps, minTile: 0);
        Assert.Equal((5, 2), (grid.Width, grid.Height));
        Assert.Equal(new byte[] { 0, 64, 255, 128, 128, 128, 255, 255, 128, 128 }, grid.Data);
    }

    [Fact]
    public void UnknownLayerListsTheNames()
    {
        var result = Run("viz", "--checkpoint", UNetCheckpoint(), "--input", SaveImage("img.png", 16, 16, 3), "--layer", "enc.9", "--out", PathOf("g.png"));
        AssertFails(result, "viz", "unknown layer 'enc.9'; available: enc, enc.0, enc.0.0");
        Assert.Contains(", out", result.Err);
        Assert.False(File.Exists(PathOf("g.png")));
    }

    [Fact]
    public void LayerWithoutFeatureMapsAndCorruptImagesFail()
    {
        string image = SaveImage("img.png", 28, 28, 1);
        AssertFails(Run("viz", "--checkpoint", ClassifierCheckpoint(), "--input", image, "--layer", "f.7", "--out", PathOf("g.png")),
            "viz", "layer 'f.7' (Linear) outputs [1, 10]; expected feature maps [1, C, h, w]");
        AssertFails(Run("viz", "--checkpoint", UNetCheckpoint(), "--input", SaveCorrupt("bad.png"), "--layer", "out", "--out", PathOf("g.png")), "viz", "bad.png");
    }
}
