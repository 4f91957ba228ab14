using ConvKit.Vision.Data;
using Xunit;

namespace ConvKit.Vision.Tests.Data;

/// <summary>SyntheticShapes: determinism, ranges, class coverage, image/mask agreement, occlusion, thread safety, arguments.</summary>
public class SyntheticShapesTests
{
    private static (float[] Image, long[] Mask) Bytes(SyntheticShapes ds, int i)
    {
        var s = ds[i];
        return (s.Image.ToArray(), s.Mask.ToArray());
    }

    [Fact]
    public void SameSeedGivesTheSameSamplesAndOtherSeedsOrSplitsDiffer()
    {
        var a = SyntheticShapes.Train(6, 32, seed: 7);
        var b = SyntheticShapes.Train(6, 32, seed: 7);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(Bytes(a, i).Image, Bytes(b, i).Image);
            Assert.Equal(Bytes(a, i).Mask, Bytes(b, i).Mask);
            Assert.Equal(Bytes(a, i).Image, Bytes(a, i).Image);
        }
        foreach (var other in new[] { SyntheticShapes.Train(6, 32, seed: 8), SyntheticShapes.Val(6, 32, seed: 7) })
            for (int i = 0; i < a.Count; i++)
                Assert.NotEqual(Bytes(a, i).Image, Bytes(other, i).Image);
        Assert.NotEqual(Bytes(a, 0).Image, Bytes(a, 1).Image);
    }

    [Fact]
    public void TrainAndValSplitsShareNoSample()
    {
        var train = SyntheticShapes.Train(40, 16, seed: 3);
        var val = SyntheticShapes.Val(40, 16, seed: 3);
        var seen = train.Select(s => string.Join(",", s.Mask.ToArray()) + string.Join(",", s.Image.ToArray().Take(8))).ToHashSet();
        Assert.DoesNotContain(val, s => seen.Contains(string.Join(",", s.Mask.ToArray()) + string.Join(",", s.Image.ToArray().Take(8))));
    }

    [Fact]
    public void ShapesDtypesAndRanges()
    {
        var ds = new SyntheticShapes(10, height: 40, width: 56, seed: 1);
        Assert.Equal(10, ds.Count);
        foreach (var s in ds)
        {
            Assert.Equal([3, 40, 56], s.Image.Shape);
            Assert.Equal([40, 56], s.Mask.Shape);
            Assert.All(s.Image.ToArray(), v => Assert.InRange(v, 0f, 1f));
            Assert.All(s.Mask.ToArray(), v => Assert.InRange(v, 0L, SyntheticShapes.NumClasses - 1));
        }
        Assert.Equal(["background", "circle", "rectangle", "triangle"], SyntheticShapes.ClassNames);
    }

    [Fact]
    public void EveryClassAppearsAndEachSampleHasOneToFourShapes()
    {
        var ds = SyntheticShapes.Train(30, 48, seed: 11);
        var present = new HashSet<long>();
        for (int i = 0; i < ds.Count; i++)
        {
            foreach (var v in ds[i].Mask.ToArray()) present.Add(v);
            Assert.InRange(ds.Layout(i).Count, 1, SyntheticShapes.MaxShapes);
        }
        Assert.Equal([0L, 1, 2, 3], present.Order());
        var kinds = Enumerable.Range(0, ds.Count).SelectMany(ds.Layout).GroupBy(s => s.GetType()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, kinds.Count);
    }

    [Fact]
    public void MaskMatchesTheLayoutAndImageShowsEachShapesColour()
    {
        var ds = SyntheticShapes.Train(25, 64, seed: 5);
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds[i];
            var layout = ds.Layout(i);
            var image = s.Image.ToArray();
            var mask = s.Mask.ToArray();
            var sums = new double[layout.Count, 3];
            var counts = new int[layout.Count];
            var bg = new List<float>[3] { new(), new(), new() };
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                {
                    int top = -1;
                    for (int k = 0; k < layout.Count; k++) if (layout[k].CoversPixel(y, x)) top = k;
                    Assert.Equal(top < 0 ? 0L : (long)layout[top].Kind, mask[y * 64 + x]);
                    for (int c = 0; c < 3; c++)
                        if (top >= 0) sums[top, c] += image[c * 4096 + y * 64 + x];
                        else bg[c].Add(image[c * 4096 + y * 64 + x]);
                    if (top >= 0) counts[top]++;
                }
            for (int k = 0; k < layout.Count; k++)
            {
                if (counts[k] < 20) continue;
                var mean = new Rgb((float)(sums[k, 0] / counts[k]), (float)(sums[k, 1] / counts[k]), (float)(sums[k, 2] / counts[k]));
                // Noise has σ ≤ 0.06 and clamping shifts the mean only near 0 or 1.
                Assert.True(mean.DistanceTo(layout[k].Colour) < 0.06, $"sample {i} shape {k}: mean {mean} vs colour {layout[k].Colour}");
                if (bg[0].Count > 20)
                {
                    var bgMean = new Rgb(bg[0].Average(), bg[1].Average(), bg[2].Average());
                    Assert.True(mean.DistanceTo(bgMean) > 0.2, $"sample {i} shape {k}: colour {mean} too close to the background {bgMean}");
                }
            }
        }
    }

    [Fact]
    public void LaterShapesOccludeEarlierOnesInImageAndMask()
    {
        var ds = SyntheticShapes.Train(60, 64, seed: 2);
        int overlaps = 0;
        for (int i = 0; i < ds.Count && overlaps < 200; i++)
        {
            var layout = ds.Layout(i);
            if (layout.Count < 2) continue;
            var s = ds[i];
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                {
                    var covering = layout.Where(l => l.CoversPixel(y, x)).ToList();
                    if (covering.Count < 2 || covering[^1].Kind == covering[0].Kind) continue;
                    overlaps++;
                    Assert.Equal((long)covering[^1].Kind, s.Mask[y, x]);
                    var px = new Rgb(s.Image[0, y, x], s.Image[1, y, x], s.Image[2, y, x]);
                    Assert.True(px.DistanceTo(covering[^1].Colour) < px.DistanceTo(covering[0].Colour) + 1e-6,
                        $"sample {i} ({y}, {x}): pixel {px} closer to the occluded colour {covering[0].Colour} than to {covering[^1].Colour}");
                }
        }
        Assert.True(overlaps > 50, $"expected overlapping shapes of different classes in 60 samples, found {overlaps} pixels");
    }

    [Fact]
    public void ConcurrentReadsGiveTheSameSamples()
    {
        var ds = SyntheticShapes.Train(16, 32, seed: 9);
        var expected = Enumerable.Range(0, ds.Count).Select(i => Bytes(ds, i)).ToArray();
        var results = new (float[] Image, long[] Mask)[4 * ds.Count];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, j => results[j] = Bytes(ds, (j * 7) % ds.Count));
        for (int j = 0; j < results.Length; j++)
        {
            Assert.Equal(expected[(j * 7) % ds.Count].Image, results[j].Image);
            Assert.Equal(expected[(j * 7) % ds.Count].Mask, results[j].Mask);
        }
    }

    [Fact]
    public void BadArgumentsThrowWithClearMessages()
    {
        var e = Assert.Throws<ArgumentException>(() => SyntheticShapes.Train(4, size: 7));
        Assert.Contains("at least 8x8, got 7x7", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SyntheticShapes(4, height: 64, width: 5));
        Assert.Contains("got 64x5", e.Message);
        e = Assert.Throws<ArgumentException>(() => SyntheticShapes.Train(-1));
        Assert.Contains("count >= 0, got -1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticShapes.Train(3)[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticShapes.Train(3).Layout(-1));
        Assert.Empty(SyntheticShapes.Train(0, 8));
    }
}
