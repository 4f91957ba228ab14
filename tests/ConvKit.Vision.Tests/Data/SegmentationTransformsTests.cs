using ConvKit.Vision.Data;
using Xunit;
using T = ConvKit.Vision.Data.SegmentationTransforms;

namespace ConvKit.Vision.Tests.Data;

/// <summary>Joint image/mask transforms: alignment, mask values, padding, determinism, shapes, errors.</summary>
public class SegmentationTransformsTests
{
    /// <summary>
    /// A sample whose mask is a function of its image: image[c, y, x] = 1 + y·W + x + 1000·c (never 0) and
    /// mask = (image[0] − 1) mod 5, so any window or flip of both must keep <see cref="Consistent"/>.
    /// </summary>
    private static SegmentationSample Indexed(int h, int w)
    {
        var image = new float[3 * h * w];
        var mask = new long[h * w];
        for (int i = 0; i < h * w; i++)
        {
            for (int c = 0; c < 3; c++) image[c * h * w + i] = 1 + i + 1000 * c;
            mask[i] = i % 5;
        }
        return new SegmentationSample(Tensor.FromArray(image, 3, h, w), LongTensor.FromArray(mask, h, w));
    }

    /// <summary>Every pixel is either padding (image 0 in all channels, mask 255) or a source pixel with its own mask value.</summary>
    private static void Consistent(SegmentationSample s)
    {
        int h = s.Mask.Shape[0], w = s.Mask.Shape[1];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float v = s.Image[0, y, x];
                if (v == 0) Assert.Equal(SegmentationSample.IgnoreIndex, s.Mask[y, x]);
                else
                {
                    Assert.Equal(((long)v - 1) % 5, s.Mask[y, x]);
                    Assert.Equal(v + 1000, s.Image[1, y, x]);
                }
            }
    }

    [Fact]
    public void CropOnlyWindowsOfImageAndMaskAlignAndPadBottomRight()
    {
        var crop = T.RandomScaleCrop((14, 8), minScale: 1, maxScale: 1);
        var g = new Generator(3);
        var lefts = new HashSet<float>();
        for (int k = 0; k < 20; k++)
        {
            var s = crop(Indexed(10, 12), g);
            Assert.Equal([3, 14, 8], s.Image.Shape);
            Assert.Equal([14, 8], s.Mask.Shape);
            Consistent(s);
            // Height 10 < 14: padded below only, so the top row is the source's row 0 and rows 10.. are padding.
            Assert.InRange(s.Image[0, 0, 0], 1, 12);
            Assert.All(Enumerable.Range(0, 8), x => Assert.Equal(255L, s.Mask[13, x]));
            Assert.NotEqual(255L, s.Mask[9, 0]);
            lefts.Add(s.Image[0, 0, 0]);
        }
        Assert.True(lefts.Count > 2, "expected the crop's left edge to vary");
    }

    [Fact]
    public void ScaledMasksKeepTheirClassesAndOutputsHaveTheCropSize()
    {
        var values = new long[] { 0, 1, 2, 3, 7 };
        var g = new Generator(0);
        var src = new SegmentationSample(Tensor.Rand([3, 20, 16], g), LongTensor.FromArray(Enumerable.Range(0, 320).Select(i => values[(i / 3 + i / 16) % 5]).ToArray(), 20, 16));
        var t = T.RandomScaleCrop(12, 0.5, 2.0, fill: -1f);
        var sizes = new HashSet<long>();
        for (int k = 0; k < 30; k++)
        {
            var s = t(src, g);
            Assert.Equal([3, 12, 12], s.Image.Shape);
            var mask = s.Mask.ToArray();
            Assert.All(mask, v => Assert.Contains(v, values.Append(255)));
            // Padding shows as fill in the image exactly where the mask is 255.
            var image = s.Image.ToArray();
            for (int i = 0; i < mask.Length; i++) Assert.Equal(mask[i] == 255, image[i] == -1f);
            sizes.Add(mask.Count(v => v == 255));
        }
        Assert.True(sizes.Count > 2, "expected the scale to vary");
    }

    [Fact]
    public void ResizeUsesNearestForTheMaskAndBilinearForTheImage()
    {
        var s = T.Resize((7, 5))(Indexed(10, 12), new Generator(0));
        Assert.Equal([3, 7, 5], s.Image.Shape);
        Assert.Equal([7, 5], s.Mask.Shape);
        var nearest = F.Interpolate(Indexed(10, 12).Mask.ToFloat().Unsqueeze(0).Unsqueeze(0), (7, 5), mode: "nearest");
        Assert.Equal(nearest.ToArray().Select(v => (long)v), s.Mask.ToArray());
        var bilinear = F.Interpolate(Indexed(10, 12).Image.Unsqueeze(0), (7, 5), mode: "bilinear", alignCorners: false);
        Assert.Equal(bilinear.ToArray(), s.Image.ToArray());
    }

    [Fact]
    public void FlipMirrorsImageAndMaskTogether()
    {
        var src = Indexed(4, 6);
        var flipped = T.RandomHorizontalFlip(1)(src, new Generator(0));
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 6; x++)
            {
                Assert.Equal(src.Mask[y, 5 - x], flipped.Mask[y, x]);
                for (int c = 0; c < 3; c++) Assert.Equal(src.Image[c, y, 5 - x], flipped.Image[c, y, x]);
            }
        Assert.Equal(src.Image.ToArray(), T.RandomHorizontalFlip(0)(src, new Generator(0)).Image.ToArray());
        var g = new Generator(1);
        var flips = Enumerable.Range(0, 40).Select(_ => T.RandomHorizontalFlip(0.5)(src, g)).Select(s => { Consistent(s); return s.Image[0, 0, 0] != src.Image[0, 0, 0]; });
        Assert.InRange(flips.Count(f => f), 8, 32);
    }

    [Fact]
    public void CenterCropFollowsTorchvisionOffsetsAndPadsEvenly()
    {
        var cut = T.CenterCrop((6, 6))(Indexed(11, 12), new Generator(0));
        // top = round(5 / 2) = 2 (round half to even, as Python), left = round(6 / 2) = 3.
        Assert.Equal(1 + 2 * 12 + 3, cut.Image[0, 0, 0]);
        Consistent(cut);
        var padded = T.CenterCrop((7, 4))(Indexed(4, 4), new Generator(0));
        // (7 − 4) = 3 rows of padding: 1 above, 2 below, as torchvision's center_crop pads [3 // 2, (3 + 1) // 2].
        Assert.Equal(255L, padded.Mask[0, 0]);
        Assert.Equal(1f, padded.Image[0, 1, 0]);
        Assert.Equal(255L, padded.Mask[5, 0]);
        Consistent(padded);
    }

    [Fact]
    public void NormalizeChangesOnlyTheImage()
    {
        var src = Indexed(3, 3);
        var s = T.Normalize([1f, 2f, 3f], [2f, 2f, 2f])(src, new Generator(0));
        Assert.Equal(src.Mask.ToArray(), s.Mask.ToArray());
        Assert.Equal((src.Image[2, 1, 1] - 3f) / 2f, s.Image[2, 1, 1]);
    }

    [Fact]
    public void ComposedPipelineIsDeterministicBySeed()
    {
        var pipeline = T.Compose(T.RandomScaleCrop(48, 0.75, 1.5), T.RandomHorizontalFlip(), T.Normalize([0.5f], [0.25f]));
        var ds = SyntheticShapes.Train(6, 64, seed: 4);
        SegmentationSample[] Run(ulong seed)
        {
            var g = new Generator(seed);
            return ds.Select(s => pipeline(s, g)).ToArray();
        }
        var (a, b, c) = (Run(1), Run(1), Run(2));
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal([3, 48, 48], a[i].Image.Shape);
            Assert.All(a[i].Mask.ToArray(), v => Assert.True(v is >= 0 and <= 3 or 255));
            Assert.Equal(a[i].Image.ToArray(), b[i].Image.ToArray());
            Assert.Equal(a[i].Mask.ToArray(), b[i].Mask.ToArray());
        }
        Assert.Contains(Enumerable.Range(0, a.Length), i => !a[i].Mask.ToArray().SequenceEqual(c[i].Mask.ToArray()));
    }

    [Fact]
    public void MismatchedOrMalformedSamplesThrow()
    {
        var bad = new SegmentationSample(Tensor.Zeros(3, 64, 60), LongTensor.FromArray(new long[64 * 64], 64, 64));
        var e = Assert.Throws<ArgumentException>(() => T.RandomHorizontalFlip()(bad, new Generator(0)));
        Assert.Contains("image [3, 64, 60] and mask [64, 64] differ in size", e.Message);
        Assert.Throws<ArgumentException>(() => T.RandomScaleCrop(8)(bad, new Generator(0)));
        Assert.Throws<ArgumentException>(() => T.Resize(8)(new SegmentationSample(Tensor.Zeros(64, 64), LongTensor.FromArray(new long[64 * 64], 64, 64)), new Generator(0)));
        Assert.Throws<ArgumentException>(() => T.RandomScaleCrop(8, 2, 1));
        Assert.Throws<ArgumentException>(() => T.CenterCrop((0, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => T.RandomHorizontalFlip(1.5));
    }
}
