namespace ConvKit.Vision.Data;

/// <summary>
/// Transforms applied jointly to a segmentation sample's image [C, H, W] and mask [H, W], as torchvision's
/// <c>references/segmentation/transforms.py</c>: geometry changes both alike (bilinear for the image, nearest
/// for the mask, so no new class ids appear), photometric ones touch the image only. Each takes the sample
/// and a <see cref="Generator"/> and returns a new sample. Random decisions use PyTorch's draws:
/// <c>torch.rand(1)</c> for scales and flips, <c>torch.randint</c> for crop offsets.
/// </summary>
/// <exception cref="ArgumentException">Thrown by every transform when the image is not [C, H, W] or the mask's [H, W] differs.</exception>
public static class SegmentationTransforms
{
    /// <summary>Applies the transforms in order (torchvision references' <c>Compose</c>).</summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> Compose(params Func<SegmentationSample, Generator, SegmentationSample>[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var steps = (Func<SegmentationSample, Generator, SegmentationSample>[])transforms.Clone();
        return (sample, g) =>
        {
            foreach (var t in steps) sample = t(sample, g);
            return sample;
        };
    }

    /// <summary>
    /// Rescales by s drawn uniformly in [<paramref name="minScale"/>, <paramref name="maxScale"/>] to
    /// (round(H·s), round(W·s)) (bilinear image, nearest mask, as <c>F.Interpolate</c>), pads the bottom and right
    /// to at least <paramref name="cropSize"/> (image with <paramref name="fill"/>, mask with
    /// <see cref="SegmentationSample.IgnoreIndex"/>) and crops a random window of <paramref name="cropSize"/>:
    /// torchvision references' <c>RandomResize</c> + <c>RandomCrop</c>. Output image [C, h, w], mask [h, w].
    /// </summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> RandomScaleCrop(Pair cropSize, double minScale = 0.5, double maxScale = 2.0, float fill = 0f)
    {
        CheckSize(cropSize, "RandomScaleCrop");
        if (!(minScale > 0 && maxScale >= minScale && double.IsFinite(maxScale)))
            throw new ArgumentException($"RandomScaleCrop: expected 0 < minScale <= maxScale, got minScale {minScale}, maxScale {maxScale}");
        return (sample, g) =>
        {
            var (_, h, w) = Check(sample, "RandomScaleCrop");
            double s = minScale + (maxScale - minScale) * Uniform(g);
            var scaled = ResizeTo(sample, (Math.Max(1, (int)Math.Round(h * s)), Math.Max(1, (int)Math.Round(w * s))));
            int sh = scaled.Mask.Shape[0], sw = scaled.Mask.Shape[1];
            int ph = Math.Max(sh, cropSize.H), pw = Math.Max(sw, cropSize.W);
            int top = 0, left = 0;
            if (ph != cropSize.H || pw != cropSize.W)
            {
                top = RandomInt(g, ph - cropSize.H + 1);
                left = RandomInt(g, pw - cropSize.W + 1);
            }
            return Crop(scaled, top, left, cropSize, fill);
        };
    }

    /// <summary>Mirrors image and mask left-right together with probability <paramref name="p"/> (one <c>torch.rand(1)</c> per call).</summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"RandomHorizontalFlip: expected a probability in [0, 1], got {p}");
        return (sample, g) =>
        {
            var (c, h, w) = Check(sample, "RandomHorizontalFlip");
            var image = sample.Image.Contiguous().Span.ToArray();
            var mask = sample.Mask.ToArray();
            if (Uniform(g) < p)
            {
                PlaneOps.FlipRows<float>(image, c * h, w);
                PlaneOps.FlipRows<long>(mask, h, w);
            }
            return new SegmentationSample(new Tensor(image, [c, h, w]), new LongTensor(mask, [h, w]));
        };
    }

    /// <summary>(x − mean[c]) / std[c] on the image only (<c>Normalize</c>); one value applies to every channel.</summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> Normalize(float[] mean, float[] std)
    {
        var normalize = ConvKit.Data.Transforms.Normalize(mean, std);
        return (sample, g) =>
        {
            Check(sample, "Normalize");
            return sample with { Image = normalize(sample.Image, g) };
        };
    }

    /// <summary>
    /// Crops the central <paramref name="size"/> window (torchvision's <c>center_crop</c>: top = round((H − h) / 2),
    /// padding evenly — image with <paramref name="fill"/>, mask with 255 — when the sample is smaller).
    /// </summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> CenterCrop(Pair size, float fill = 0f)
    {
        CheckSize(size, "CenterCrop");
        return (sample, _) =>
        {
            var (_, h, w) = Check(sample, "CenterCrop");
            return Crop(sample, CentredOffset(h, size.H), CentredOffset(w, size.W), size, fill);
        };
    }

    /// <summary>Resizes to <paramref name="size"/> (H, W): bilinear image, nearest mask (for evaluation at a fixed size).</summary>
    public static Func<SegmentationSample, Generator, SegmentationSample> Resize(Pair size)
    {
        CheckSize(size, "Resize");
        return (sample, _) =>
        {
            Check(sample, "Resize");
            return ResizeTo(sample, size);
        };
    }

    private static int CentredOffset(int have, int want) =>
        have >= want ? (int)Math.Round((have - want) / 2.0, MidpointRounding.ToEven) : -((want - have) / 2);

    private static SegmentationSample ResizeTo(SegmentationSample sample, Pair size)
    {
        var image = F.Interpolate(sample.Image.Detach().Unsqueeze(0), size, mode: "bilinear", alignCorners: false).Squeeze(0);
        var mask = F.Interpolate(sample.Mask.ToFloat().Unsqueeze(0).Unsqueeze(0), size, mode: "nearest").Contiguous().Span;
        var labels = new long[mask.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = (long)mask[i];
        return new SegmentationSample(image, new LongTensor(labels, [size.H, size.W]));
    }

    /// <summary>The window at (top, left) of the given size; positions outside the sample take the fill (mask: 255).</summary>
    private static SegmentationSample Crop(SegmentationSample sample, int top, int left, Pair size, float fill)
    {
        var (c, h, w) = Check(sample, "crop");
        var window = new PlaneOps.Window(h, w, top, left, size.H, size.W);
        var image = PlaneOps.Crop(sample.Image.Contiguous().Span, c, window, fill);
        var mask = PlaneOps.Crop(sample.Mask.Span, 1, window, SegmentationSample.IgnoreIndex);
        return new SegmentationSample(new Tensor(image, [c, size.H, size.W]), new LongTensor(mask, [size.H, size.W]));
    }

    /// <summary>Checks image [C, H, W] against mask [H, W] and returns (C, H, W).</summary>
    internal static (int C, int H, int W) Check(SegmentationSample sample, string op)
    {
        ArgumentNullException.ThrowIfNull(sample.Image, "sample.Image");
        ArgumentNullException.ThrowIfNull(sample.Mask, "sample.Mask");
        var image = sample.Image.Shape;
        var mask = sample.Mask.Shape;
        if (image.Count != 3 || mask.Count != 2)
            throw new ArgumentException($"{op}: expected an image [C, H, W] and a mask [H, W], got image {ShapeUtil.Format(image)} and mask {ShapeUtil.Format(mask)}");
        if (image[1] != mask[0] || image[2] != mask[1])
            throw new ArgumentException($"{op}: image {ShapeUtil.Format(image)} and mask {ShapeUtil.Format(mask)} differ in size; expected the mask to be [{image[1]}, {image[2]}]");
        return (image[0], image[1], image[2]);
    }

    private static void CheckSize(Pair size, string op)
    {
        if (size.H <= 0 || size.W <= 0) throw new ArgumentException($"{op}: expected a positive size, got {size}", nameof(size));
    }

    /// <summary><c>torch.rand(1)</c> as a double in [0, 1).</summary>
    private static double Uniform(Generator g)
    {
        Span<float> u = stackalloc float[1];
        g.FillUniform(u);
        return u[0];
    }

    /// <summary><c>torch.randint(0, n, (1,))</c>: one 32-bit draw modulo n.</summary>
    private static int RandomInt(Generator g, int n) => (int)(g.NextUInt32() % (uint)n);
}
