using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// One segmentation sample: an image [C, H, W] (float32) and its class mask [H, W] (int64 class ids,
/// <see cref="IgnoreIndex"/> for pixels that take no loss, as VOC's 255 border).
/// </summary>
public readonly record struct SegmentationSample(Tensor Image, LongTensor Mask)
{
    /// <summary>The mask value that marks pixels without a label (VOC's 255; the loss's ignoreIndex).</summary>
    public const long IgnoreIndex = 255;
}

/// <summary>A batch of segmentation samples: images [B, C, H, W] and masks [B, H, W].</summary>
public readonly record struct SegmentationBatch(Tensor Images, LongTensor Masks)
{
    /// <summary>Number of samples, B.</summary>
    public int Size => Images.Sizes[0];

    /// <summary>Stacks equal-sized samples into one batch; throws when image and mask sizes differ.</summary>
    public static SegmentationBatch Collate(IReadOnlyList<SegmentationSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("SegmentationBatch.Collate: expected at least one sample, got an empty batch", nameof(samples));
        var images = ConvKit.Data.Collate.Stack(samples.Select(s => s.Image).ToArray());
        var m0 = samples[0].Mask;
        int h = m0.Shape[0], w = m0.Shape[1];
        var masks = new long[samples.Count * h * w];
        for (int i = 0; i < samples.Count; i++)
        {
            var m = samples[i].Mask;
            var img = samples[i].Image;
            if (m.Dim != 2 || m.Shape[0] != h || m.Shape[1] != w || img.Sizes[^2] != h || img.Sizes[^1] != w)
                throw new ArgumentException(
                    $"SegmentationBatch.Collate: expected every image [C, {h}, {w}] with mask [{h}, {w}], got image {ShapeUtil.Format(img.Sizes)} and mask {ShapeUtil.Format(m.Shape.ToArray())} at entry {i}");
            m.Span.CopyTo(masks.AsSpan(i * h * w));
        }
        return new SegmentationBatch(images, new LongTensor(masks, [samples.Count, h, w]));
    }
}
