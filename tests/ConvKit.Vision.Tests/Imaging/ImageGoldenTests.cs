using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Vision.Tests.Imaging;

/// <summary>
/// Decoded pixels against PIL's (tools/golden/gen_images.py): every PNG colour type, bit depth and
/// interlace method, and JPEGs of several samplings, sizes, qualities and restart intervals. Both
/// formats must match exactly: the JPEG decoder follows libjpeg-turbo's islow IDCT, fancy upsampling
/// and colour tables, which PIL uses.
/// </summary>
public class ImageGoldenTests
{
    public static TheoryData<string> PngCases() => Names(c => c.File.EndsWith(".png"));
    public static TheoryData<string> JpegCases() => Names(c => c.File.EndsWith(".jpg"));

    private static TheoryData<string> Names(Func<ImageFixtures.Case, bool> keep)
    {
        var data = new TheoryData<string>();
        foreach (var c in ImageFixtures.Cases().Where(keep)) data.Add($"{c.File} {c.Mode}");
        return data;
    }

    [Theory]
    [MemberData(nameof(PngCases))]
    public void Png_pixels_equal_PIL(string name) => AssertMatchesPil(name);

    [Theory]
    [MemberData(nameof(JpegCases))]
    public void Jpeg_pixels_equal_PIL_exactly(string name) => AssertMatchesPil(name);

    [Fact]
    public void Fixtures_cover_every_png_colour_type_and_depth_plain_and_interlaced()
    {
        var files = ImageFixtures.Cases().Select(c => c.File).ToHashSet();
        foreach (var (type, depths) in new[] { (0, new[] { 1, 2, 4, 8, 16 }), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16]) })
            foreach (int d in depths)
                foreach (string interlace in new[] { "plain", "adam7" })
                    Assert.Contains(files, f => f.StartsWith($"png_c{type}_d{d}_{interlace}_"));
    }

    [Fact]
    public void Stream_and_path_reads_agree()
    {
        var c = ImageFixtures.Cases().First(c => c.File.EndsWith(".jpg"));
        using var stream = File.OpenRead(ImageFixtures.PathOf(c.File));
        Assert.Equal(ImageFile.Read(ImageFixtures.PathOf(c.File)).Data, ImageFile.Read(stream, c.File).Data);
    }

    [Theory]
    [MemberData(nameof(UnsupportedFiles))]
    public void Unsupported_jpeg_features_throw_a_typed_exception(string file)
    {
        var e = Assert.Throws<UnsupportedImageException>(() => ImageFile.Read(ImageFixtures.PathOf(file)));
        Assert.Contains(file, e.Message);
        Assert.Contains("not supported", e.Message);
    }

    public static TheoryData<string> UnsupportedFiles() => new(ImageFixtures.Unsupported());

    private static void AssertMatchesPil(string name)
    {
        string[] parts = name.Split(' ');
        var c = ImageFixtures.Cases().Single(x => x.File == parts[0] && x.Mode == parts[1]);
        string path = ImageFixtures.PathOf(c.File);
        var image = c.Mode == "P" ? ImageFile.ReadIndexed(path) : ImageFile.Read(path);
        Assert.Equal((c.Width, c.Height, c.Channels), (image.Width, image.Height, image.Channels));
        if (c.Expected.StartsWith("sha256:"))
        {
            Assert.True(c.Expected[7..] == Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image.Data)),
                $"{c}: pixels differ from PIL's (SHA-256 of the decoded pixels does not match)");
            return;
        }
        var expected = c.ExpectedPixels();
        Assert.Equal(c.Width * c.Height * c.Channels, expected.Length);
        int maxDiff = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - image.Data[i]);
            if (d > 0 && first < 0) first = i;
            maxDiff = Math.Max(maxDiff, d);
        }
        Assert.True(maxDiff == 0,
            $"{c}: max abs difference {maxDiff} vs PIL; first at y {first / c.Channels / c.Width}, x {first / c.Channels % c.Width}, channel {first % c.Channels}");
    }
}
