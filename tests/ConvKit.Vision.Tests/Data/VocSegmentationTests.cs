using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Vision.Tests.Data;

/// <summary>VOC-layout folders built in a temp directory from a fixture JPEG and masks written as palette PNGs.</summary>
public class VocSegmentationTests : ConvKit.Tests.TempDirectory
{
    private static readonly string Jpeg = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "jpeg_pil_13x9_q75_s0.jpg");

    private string MakeVoc(string root, long[] maskValues, int maskW = 13, int maskH = 9, string[]? ids = null)
    {
        ids ??= ["2007_000001"];
        Directory.CreateDirectory(Path.Combine(root, "JPEGImages"));
        Directory.CreateDirectory(Path.Combine(root, "SegmentationClass"));
        Directory.CreateDirectory(Path.Combine(root, "ImageSets", "Segmentation"));
        foreach (var id in ids)
        {
            File.Copy(Jpeg, Path.Combine(root, "JPEGImages", id + ".jpg"));
            ImageFile.WritePng(Path.Combine(root, "SegmentationClass", id + ".png"), Image.FromClassIds(LongTensor.FromArray(maskValues, maskH, maskW)));
        }
        File.WriteAllLines(Path.Combine(root, "ImageSets", "Segmentation", "train.txt"), ids);
        return root;
    }

    private static long[] Mask(int n, Func<int, long> f) => Enumerable.Range(0, n).Select(f).ToArray();

    [Fact]
    public void ReadsImagesAndPaletteMasksOfTheSplit()
    {
        var mask = Mask(117, i => i % 7 == 0 ? 255 : i % 21);
        var voc = new VocSegmentation(MakeVoc(PathOf("voc"), mask, ids: ["a", "b"]));
        Assert.Equal(2, voc.Count);
        Assert.Equal(["a", "b"], voc.Ids);
        var s = voc[1];
        Assert.Equal([3, 9, 13], s.Image.Shape);
        Assert.Equal(ImageFile.Read(Jpeg).ToTensor().ToArray(), s.Image.ToArray());
        Assert.Equal(mask, s.Mask.ToArray());
        Assert.Equal(21, VocSegmentation.Classes.Count);
    }

    [Fact]
    public void AcceptsAFolderHoldingVocdevkit()
    {
        MakeVoc(Path.Combine(PathOf("top"), "VOCdevkit", "VOC2012"), Mask(117, _ => 1));
        Assert.Single(new VocSegmentation(PathOf("top")));
    }

    [Fact]
    public void MissingFolderShowsTheExpectedLayout()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => new VocSegmentation(PathOf("nothing")));
        Assert.Contains("JPEGImages", e.Message);
        Assert.Contains("ImageSets/Segmentation/<split>.txt", e.Message);
        MakeVoc(PathOf("v"), Mask(117, _ => 0));
        Assert.Contains("val.txt", Assert.Throws<DatasetNotFoundException>(() => new VocSegmentation(PathOf("v"), "val")).Message);
    }

    [Fact]
    public void ImageAndMaskOfDifferentSizesIsANamedError()
    {
        var voc = new VocSegmentation(MakeVoc(PathOf("v"), Mask(120, _ => 0), maskW: 12, maskH: 10));
        var e = Assert.Throws<DataFormatException>(() => voc[0]);
        Assert.Contains("is 13×9 but its mask", e.Message);
        Assert.Contains("12×10", e.Message);
    }

    [Fact]
    public void ClassIdsBeyondNumClassesOtherThanIgnoreAreRejected()
    {
        var voc = new VocSegmentation(MakeVoc(PathOf("v"), Mask(117, i => i == 40 ? 22 : 255)));
        var e = Assert.Throws<DataFormatException>(() => voc[0]);
        Assert.Contains("class id 22 at row 3, column 1", e.Message);
        Assert.Contains("below 21 or 255", e.Message);
    }

    [Fact]
    public void IdsThatEscapeTheFolderAreRejected()
    {
        var root = MakeVoc(PathOf("v"), Mask(117, _ => 0));
        File.WriteAllLines(Path.Combine(root, "ImageSets", "Segmentation", "train.txt"), ["../../etc/passwd"]);
        Assert.Contains("expected image ids", Assert.Throws<DataFormatException>(() => new VocSegmentation(root)).Message);
    }
}
