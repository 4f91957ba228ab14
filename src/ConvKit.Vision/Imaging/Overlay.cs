namespace ConvKit.Vision.Imaging;

/// <summary>Class masks drawn over images: each labelled pixel blended with its class colour (VOC palette).</summary>
public static class Overlay
{
    /// <summary>
    /// Blends <paramref name="image"/> [C, H, W] (values in [0, 1]; grey is repeated to RGB) with the colour of each
    /// class in <paramref name="mask"/> [H, W] at weight <paramref name="alpha"/>; class 0 (background) and the ignore
    /// value are left as they are. Returns an RGB image.
    /// </summary>
    public static Image Draw(Tensor image, LongTensor mask, double alpha = 0.5, byte[]? palette = null)
    {
        if (image.Dim != 3 || image.Sizes[0] is not (1 or 3) || mask.Dim != 2 || mask.Shape[0] != image.Sizes[1] || mask.Shape[1] != image.Sizes[2])
            throw new ArgumentException($"Overlay.Draw: expected an image [1 or 3, H, W] and a mask [H, W] of the same size, got {ShapeUtil.Format(image.Sizes)} and {ShapeUtil.Format(mask.Shape.ToArray())}");
        palette ??= Image.VocPalette();
        int h = image.Sizes[1], w = image.Sizes[2], c = image.Sizes[0];
        var px = image.Contiguous().ToArray();
        var ids = mask.ToArray();
        var rgb = new byte[h * w * 3];
        for (int i = 0; i < h * w; i++)
        {
            long k = ids[i];
            bool paint = k > 0 && 3 * k + 2 < palette.Length && k != 255;
            for (int ch = 0; ch < 3; ch++)
            {
                double v = Math.Clamp(px[(c == 3 ? ch : 0) * h * w + i], 0f, 1f) * 255;
                if (paint) v = (1 - alpha) * v + alpha * palette[3 * k + ch];
                rgb[3 * i + ch] = (byte)Math.Round(v);
            }
        }
        return new Image(w, h, 3, rgb);
    }
}
