using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Cli.Tests;

public class UpsampleCommandTests : CliTestBase
{
    [Fact]
    public void DoublesTheSizeAndEqualsTheBilinearUpsamplerOnTheTensor()
    {
        string input = SaveImage("in.png", 7, 5, 3);
        var (code, _, _) = Run("upsample", input, PathOf("out.png"));
        Assert.Equal(0, code);
        var result = ImageFile.Read(PathOf("out.png"));
        Assert.Equal((14, 10, 3), (result.Width, result.Height, result.Channels));
        var expected = Image.FromTensor(BilinearUpsampler.Upsample2x(ImageFile.Read(input).ToTensor()).Clamp(0f, 1f));
        Assert.Equal(expected.Data, result.Data);
    }

    [Fact]
    public void GreyStaysGreyAndAlphaIsDropped()
    {
        Assert.Equal(0, Run("upsample", SaveImage("grey.png", 4, 4, 2), PathOf("grey2.png"), "--factor", "4").Code);
        var grey = ImageFile.Read(PathOf("grey2.png"));
        Assert.Equal((16, 16, 1), (grey.Width, grey.Height, grey.Channels));
        Assert.Equal(0, Run("upsample", SaveImage("rgba.png", 3, 2, 4), PathOf("rgb.png")).Code);
        Assert.Equal(3, ImageFile.Read(PathOf("rgb.png")).Channels);
    }

    [Fact]
    public void BadInputFailsWithOneLine()
    {
        AssertFails(Run("upsample", SaveCorrupt("bad.png"), PathOf("o.png")), "upsample", "bad.png");
        AssertFails(Run("upsample", PathOf("missing.png"), PathOf("o.png")), "upsample", "missing.png");
        AssertFails(Run("upsample", SaveImage("in.png", 4, 4, 3), PathOf("o.png"), "--factor", "3"), "upsample", "factor must be even");
        Assert.False(File.Exists(PathOf("o.png")));
    }
}
