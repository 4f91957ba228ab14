using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Cli.Tests;

public class PredictCommandTests : CliTestBase
{
    [Fact]
    public void SegmentationWritesIndexedMasksAndRgbOverlaysAtEachImagesSize()
    {
        Directory.CreateDirectory(PathOf("in"));
        SaveImage("in/a.png", 20, 13, 3);
        SaveImage("in/b.png", 16, 16, 1, seed: 2);
        File.WriteAllText(PathOf("in/notes.txt"), "not an image");
        var (code, stdout, stderr) = Run("predict", "--checkpoint", UNetCheckpoint(), "--input", PathOf("in"), "--out", PathOf("out"));
        Assert.True(code == 0, stderr);
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (var (name, w, h) in new[] { ("a", 20, 13), ("b", 16, 16) })
        {
            var mask = ImageFile.ReadIndexed(PathOf($"out/{name}_mask.png"));
            Assert.Equal((w, h, 1), (mask.Width, mask.Height, mask.Channels));
            Assert.Equal(Image.VocPalette(), mask.Palette);
            Assert.All(mask.Data, id => Assert.InRange(id, 0, 3));
            var overlay = ImageFile.Read(PathOf($"out/{name}_overlay.png"));
            Assert.Equal((w, h, 3), (overlay.Width, overlay.Height, overlay.Channels));
            var rgb = ImageFile.Read(PathOf($"in/{name}.png"));
            for (int i = 0; i < mask.Data.Length; i++)
                if (mask.Data[i] == 0)
                    for (int k = 0; k < 3; k++) Assert.Equal(rgb.Data[i * rgb.Channels + Math.Min(k, rgb.Channels - 1)], overlay.Data[i * 3 + k]);
        }
    }

    [Fact]
    public void ClassifierPrintsOneLinePerImageWithClassAndProbability()
    {
        string image = SaveImage("shirt.png", 28, 28, 3);
        var (code, stdout, stderr) = Run("predict", "--checkpoint", ClassifierCheckpoint(), "--input", image, "--out", PathOf("out"));
        Assert.True(code == 0, stderr);
        Assert.Matches(@"^.*shirt\.png: item\d \(p=[01]\.\d\d\)\s*$", stdout);
        Assert.False(Directory.Exists(PathOf("out")) && Directory.EnumerateFileSystemEntries(PathOf("out")).Any());
    }

    [Fact]
    public void BadInputFailsWithOneLine()
    {
        string ck = UNetCheckpoint();
        AssertFails(Run("predict", "--checkpoint", ck, "--input", PathOf("nothing"), "--out", PathOf("o")), "predict", "input not found");
        Directory.CreateDirectory(PathOf("empty"));
        AssertFails(Run("predict", "--checkpoint", ck, "--input", PathOf("empty"), "--out", PathOf("o")), "predict", "no .png, .jpg or .jpeg images in");
        AssertFails(Run("predict", "--checkpoint", ck, "--input", SaveCorrupt("broken.png"), "--out", PathOf("o")), "predict", "broken.png");
        AssertFails(Run("predict", "--checkpoint", ck, "--input", SaveImage("x.png", 8, 8, 3)), "predict", "--out is required");
        AssertFails(Run("predict", "--checkpoint", PathOf("nope.safetensors"), "--input", PathOf("x.png"), "--out", PathOf("o")), "predict", "nope.safetensors");
    }
}
