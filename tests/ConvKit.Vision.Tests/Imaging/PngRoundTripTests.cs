using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Vision.Tests.Imaging;

/// <summary>PNG write -> read round trips for every encode mode and odd sizes, and the atomic write to a path.</summary>
public class PngRoundTripTests
{
    public static TheoryData<int, int, int> Modes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int channels in new[] { 1, 2, 3, 4 })
            foreach (var (w, h) in new[] { (1, 1), (13, 9), (17, 11), (64, 3), (3, 64) })
                data.Add(channels, w, h);
        return data;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Direct_colour_images_round_trip(int channels, int width, int height)
    {
        foreach (var image in new[] { Noise(width, height, channels, seed: width * 31 + channels), Smooth(width, height, channels) })
        {
            var back = ImageFile.Read(WriteToMemory(image), "roundtrip.png");
            Assert.Equal((width, height, channels), (back.Width, back.Height, back.Channels));
            Assert.Equal(image.Data, back.Data);
            Assert.False(back.IsIndexed);
        }
    }

    [Theory]
    [InlineData(17, 11, false)]
    [InlineData(1, 1, true)]
    [InlineData(13, 9, true)]
    public void Palette_images_round_trip_with_indices_palette_and_alpha(int width, int height, bool alpha)
    {
        var ids = Noise(width, height, 1, seed: 5).Data;
        for (int i = 0; i < ids.Length; i++) ids[i] = (byte)(ids[i] % 7 == 0 ? 255 : ids[i] % 21);
        var palette = Image.VocPalette();
        var image = new Image(width, height, 1, ids, palette, alpha ? [0, 10, 200] : null);

        var indexed = ImageFile.ReadIndexed(WriteToMemory(image), "mask.png");
        Assert.Equal(ids, indexed.Data);
        Assert.Equal(palette, indexed.Palette);
        Assert.Equal(image.PaletteAlpha, indexed.PaletteAlpha);

        var colours = ImageFile.Read(WriteToMemory(image), "mask.png");
        Assert.Equal(alpha ? 4 : 3, colours.Channels);
        Assert.Equal(image.ToRgb().Data, colours.Data);
    }

    [Fact]
    public void Encoder_picks_filters_per_row()
    {
        var png = WriteToMemory(Smooth(40, 30, 3)).ToArray();
        var filters = ImageFixtures.InflatedImageData(png).Where((_, i) => i % (1 + 40 * 3) == 0).Distinct().ToArray();
        Assert.True(filters.Length > 1, $"expected several filter types on a gradient, got {string.Join(", ", filters)}");
    }

    [Fact]
    public void WritePng_to_a_path_replaces_the_file_atomically_and_leaves_no_temporary_file()
    {
        string dir = Directory.CreateTempSubdirectory("convkit-png-").FullName;
        try
        {
            string path = Path.Combine(dir, "out.png");
            File.WriteAllText(path, "old");
            var image = Noise(13, 9, 3, seed: 1);
            ImageFile.WritePng(path, image);
            Assert.Equal(image.Data, ImageFile.Read(path).Data);
            Assert.Equal(["out.png"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReadIndexed_refuses_colour_images()
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.ReadIndexed(WriteToMemory(Noise(3, 2, 3, 1)), "rgb.png"));
        Assert.Equal("rgb.png: expected an indexed (palette) or grey mask image, got 3 channels", e.Message);
    }

    private static MemoryStream WriteToMemory(Image image)
    {
        var stream = new MemoryStream();
        ImageFile.WritePng(stream, image);
        stream.Position = 0;
        return stream;
    }

    private static Image Noise(int width, int height, int channels, int seed)
    {
        var image = new Image(width, height, channels);
        new Random(seed).NextBytes(image.Data);
        return image;
    }

    private static Image Smooth(int width, int height, int channels)
    {
        var image = new Image(width, height, channels);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    image.Data[(y * width + x) * channels + c] = (byte)(x * 5 + y * 3 + c * 40);
        return image;
    }
}
