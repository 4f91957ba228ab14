using ConvKit.Data;
using Xunit;

namespace ConvKit.Tests.Data;

/// <summary>
/// Transforms follow torchvision: RandomCrop pads with zeros then crops a window whose offsets are
/// torch.randint draws (one 32-bit draw mod range each), RandomHorizontalFlip draws one torch.rand(1).
/// A twin generator with the same seed predicts every draw.
/// </summary>
public class TransformsTests
{
    private static Tensor Image(int c, int h, int w) => Tensor.Arange(1, 1 + c * h * w).Reshape(c, h, w);

    [Fact]
    public void RandomCropIsAZeroPaddedRandomWindow()
    {
        const int c = 2, h = 5, w = 6, pad = 2, th = 4, tw = 5;
        var image = Image(c, h, w);
        var crop = Transforms.RandomCrop((th, tw), padding: pad);
        Generator g = new(11), twin = new(11);
        for (int round = 0; round < 20; round++)
        {
            var result = crop(image, g);
            int top = (int)(twin.NextUInt32() % (h + 2 * pad - th + 1));
            int left = (int)(twin.NextUInt32() % (w + 2 * pad - tw + 1));
            Assert.Equal([c, th, tw], result.Shape);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                    {
                        int sy = top + y - pad, sx = left + x - pad;
                        float expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? image[ch, sy, sx] : 0f;
                        Assert.Equal(expected, result[ch, y, x]);
                    }
        }
        Assert.Equal(twin.NextUInt32(), g.NextUInt32());
    }

    [Fact]
    public void RandomCropOfTheWholePaddedImageDrawsNothing()
    {
        Generator g = new(4), twin = new(4);
        var result = Transforms.RandomCrop(7, padding: 1)(Image(1, 5, 5), g);
        Assert.Equal(0f, result[0, 0, 0]);
        Assert.Equal(1f, result[0, 1, 1]);
        Assert.Equal(twin.NextUInt32(), g.NextUInt32());
    }

    [Fact]
    public void RandomCropRejectsACropLargerThanThePaddedImage()
    {
        var e = Assert.Throws<ArgumentException>(() => Transforms.RandomCrop(10, padding: 2)(Image(1, 5, 5), new Generator()));
        Assert.Contains("Required crop size (10, 10) is larger than input image size (9, 9)", e.Message);
        Assert.Throws<ArgumentException>(() => Transforms.RandomCrop(0));
    }

    [Fact]
    public void RandomHorizontalFlipFlipsWhenTheUniformDrawIsBelowP()
    {
        var image = Image(2, 2, 3);
        var mirrored = new[] { 3f, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 };
        Assert.Equal(mirrored, Transforms.RandomHorizontalFlip(1)(image, new Generator()).ToArray());
        Assert.Equal(image.ToArray(), Transforms.RandomHorizontalFlip(0)(image, new Generator()).ToArray());

        var flip = Transforms.RandomHorizontalFlip(0.5);
        Generator g = new(9), twin = new(9);
        var u = new float[1];
        int flips = 0;
        for (int round = 0; round < 40; round++)
        {
            twin.FillUniform(u);
            bool flipped = u[0] < 0.5;
            flips += flipped ? 1 : 0;
            Assert.Equal(flipped ? mirrored : image.ToArray(), flip(image, g).ToArray());
        }
        Assert.InRange(flips, 1, 39);
        Assert.Equal(Image(2, 2, 3).ToArray(), image.ToArray());
    }

    [Fact]
    public void NormalizeSubtractsMeanAndDividesByStdPerChannel()
    {
        var image = Image(2, 1, 2);
        var result = Transforms.Normalize([1f, 2f], [2f, 4f])(image, new Generator());
        Assert.Equal([0f, 0.5f, 0.25f, 0.5f], result.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Transforms.Normalize([1f, 2f, 3f], [1f])(image, new Generator()));
        Assert.Contains("expected mean with one value or 2 (one per channel), got 3 values", e.Message);
        Assert.Throws<ArgumentException>(() => Transforms.Normalize([0f], [0f]));
    }

    [Fact]
    public void ComposeAppliesInOrder()
    {
        var t = Transforms.Compose(Transforms.RandomCrop(2, padding: 0), Transforms.RandomHorizontalFlip(1));
        var result = t(Image(1, 2, 2), new Generator());
        Assert.Equal([2f, 1, 4, 3], result.ToArray());
    }

    [Fact]
    public void DatasetNormalizeMatchesTensorArithmetic()
    {
        var data = DataLoaderTests.Numbered(4);
        var normalized = data.Normalize(FashionMnist.Mean, FashionMnist.Std);
        Assert.Equal(((data.Images - FashionMnist.Mean) / FashionMnist.Std).ToArray(), normalized.Images.ToArray());
        Assert.Equal(data.Labels.ToArray(), normalized.Labels.ToArray());
        Assert.NotEqual(data.Images.ToArray(), normalized.Images.ToArray());
    }

    [Fact]
    public void TensorDatasetServesTransformedSamplesAndChecksItsInput()
    {
        var data = DataLoaderTests.Numbered(3).WithTransform(Transforms.RandomHorizontalFlip(1));
        var (image, label) = data[2];
        Assert.Equal(2L, label);
        Assert.Equal([202f, 201, 200, 205, 204, 203], image.ToArray());
        Assert.Equal([1, 2, 3], data.ImageShape);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => data[3]);
        Assert.Contains("index 3 is out of range for a dataset of 3 samples", e.Message);
        var shape = Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(3, 28, 28), LongTensor.FromArray(new long[3], 3)));
        Assert.Contains("expected images of shape [N, C, H, W], got [3, 28, 28]", shape.Message);
        var count = Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(3, 1, 2, 2), LongTensor.FromArray(new long[2], 2)));
        Assert.Contains("expected labels of shape [3]", count.Message);
    }

    [Fact]
    public void CollateRejectsSamplesOfDifferentShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Collate.Stack([Tensor.Zeros(1, 2), Tensor.Zeros(2, 1)]));
        Assert.Contains("got [1, 2] at entry 0 and [2, 1] at entry 1", e.Message);
        Assert.Equal([2, 1, 2], Collate.Stack([Tensor.Zeros(1, 2), Tensor.Ones(1, 2)]).Shape);
    }
}
