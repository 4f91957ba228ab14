using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Vision.Tests.Imaging;

/// <summary>The Image type: tensor conversions (torchvision's to_tensor layout), masks and the VOC palette.</summary>
public class ImageTests
{
    [Fact]
    public void ToTensor_is_chw_divided_by_255()
    {
        var image = new Image(3, 2, 2, [0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        var t = image.ToTensor();
        Assert.Equal([2, 2, 3], t.Shape);
        float[] expected = [0, 10, 30, 50, 70, 90, 255, 20, 40, 60, 80, 100];
        Assert.Equal(expected.Select(v => v / 255f), t.ToArray());
    }

    [Fact]
    public void FromTensor_clamps_rounds_and_inverts_ToTensor()
    {
        var t = Tensor.FromArray([-0.5f, 0.2f, 1.5f, 0.999f, 0.5f / 255f + 0.001f, 1f], 1, 2, 3);
        Assert.Equal([0, 51, 255, 255, 1, 255], Image.FromTensor(t).Data);

        var image = new Image(17, 11, 3);
        new Random(3).NextBytes(image.Data);
        Assert.Equal(image.Data, Image.FromTensor(image.ToTensor()).Data);

        var grey = Image.FromTensor(Tensor.FromArray([0f, 1f], 1, 2));
        Assert.Equal((2, 1, 1), (grey.Width, grey.Height, grey.Channels));
    }

    [Fact]
    public void FromTensor_rejects_bad_shapes_and_NaN()
    {
        Assert.Contains("[5, 2, 2]", Assert.Throws<ArgumentException>(() => Image.FromTensor(Tensor.Zeros(5, 2, 2))).Message);
        Assert.Contains("[4]", Assert.Throws<ArgumentException>(() => Image.FromTensor(Tensor.Zeros(4))).Message);
        var e = Assert.Throws<ArgumentException>(() => Image.FromTensor(Tensor.FromArray([0f, float.NaN], 1, 2)));
        Assert.Contains("NaN at channel 0, y 0, x 1", e.Message);
    }

    [Fact]
    public void VocPalette_matches_the_standard_colour_map()
    {
        var p = Image.VocPalette();
        Assert.Equal(768, p.Length);
        Assert.Equal([0, 0, 0], p[0..3]);
        Assert.Equal([128, 0, 0], p[3..6]);
        Assert.Equal([0, 128, 0], p[6..9]);
        Assert.Equal([192, 128, 128], p[45..48]);  // 15, person
        Assert.Equal([224, 224, 192], p[765..768]); // 255, ignore
    }

    [Fact]
    public void Class_ids_round_trip_through_an_indexed_image()
    {
        var mask = LongTensor.FromArray(new long[] { 0, 1, 15, 255, 20, 0 }, 2, 3);
        var image = Image.FromClassIds(mask);
        Assert.True(image.IsIndexed);
        Assert.Equal(Image.VocPalette(), image.Palette);
        Assert.Equal(mask.ToArray(), image.ToClassIds().ToArray());
        Assert.Equal([2, 3], image.ToClassIds().Shape);
        Assert.Equal([224, 224, 192], image.ToRgb().Data[9..12]);
    }

    [Fact]
    public void Class_ids_outside_a_byte_and_colour_masks_are_rejected()
    {
        Assert.Contains("got 256 at y 0, x 1", Assert.Throws<ArgumentException>(() => Image.FromClassIds(LongTensor.FromArray(new long[] { 0, 256 }, 1, 2))).Message);
        Assert.Throws<InvalidOperationException>(() => new Image(2, 2, 3).ToClassIds());
    }

    [Fact]
    public void Voc_mask_written_by_PIL_reads_as_class_ids()
    {
        var mask = ImageFile.ReadIndexed(ImageFixtures.PathOf("voc_mask_17x11.png"));
        var ids = mask.ToClassIds().ToArray();
        Assert.Equal([0L, 1, 15, 255], ids.Distinct().Order());
        Assert.Equal(255, ids[5]);
        Assert.Equal(Image.VocPalette().AsSpan(0, 48).ToArray(), mask.Palette![..48]);
    }

    [Fact]
    public void Constructor_validates_sizes_and_palette()
    {
        Assert.Throws<ArgumentException>(() => new Image(0, 1, 1));
        Assert.Throws<ArgumentException>(() => new Image(2, 2, 5));
        Assert.Throws<ArgumentException>(() => new Image(2, 2, 3, new byte[11]));
        Assert.Throws<ArgumentException>(() => new Image(2, 2, 3, null, new byte[3]));
        Assert.Throws<ArgumentException>(() => new Image(2, 2, 1, null, new byte[4]));
        Assert.Throws<ArgumentException>(() => new Image(2, 2, 1, null, new byte[3], new byte[2]));
    }

    [Fact]
    public void ToTensor_with_channels_converts_grey_rgb_alpha_and_palettes_for_a_model()
    {
        var grey = new Image(2, 1, 1, [51, 255]);
        Assert.Equal([0.2f, 1f, 0.2f, 1f, 0.2f, 1f], grey.ToTensor(3).ToArray());
        Assert.Equal([3, 1, 2], grey.ToTensor(3).Shape);

        var rgba = new Image(1, 1, 4, [255, 0, 0, 7]);
        Assert.Equal([1f, 0f, 0f], rgba.ToTensor(3).ToArray());
        // PIL's convert("L"): (R·19595 + G·38470 + B·7471 + 2^15) >> 16, i.e. 0.299 R + 0.587 G + 0.114 B rounded.
        Assert.Equal([76f / 255], rgba.ToTensor(1).ToArray());

        var indexed = new Image(2, 1, 1, [0, 1], palette: [0, 0, 0, 0, 255, 0]);
        Assert.Equal([0f, 0f, 0f, 1f, 0f, 0f], indexed.ToTensor(3).ToArray());
        Assert.Equal([0f, 150f / 255], indexed.ToTensor(1).ToArray());

        var greyAlpha = new Image(1, 1, 2, [102, 9]);
        Assert.Equal([0.4f], greyAlpha.ToTensor(1).ToArray());
        Assert.Contains("expected 1 (grey) or 3 (RGB) channels, got 2", Assert.Throws<ArgumentException>(() => grey.ToTensor(2)).Message);
    }
}
