namespace ConvKit.Vision.Imaging;

/// <summary>Class masks drawn over images: each labelled pixel blended with its class colour (VOC palette).</summary>
public static class Overlay
{
    /// <summary>
    /// Blends <paramref name="image"/> (any channels; made RGB) with the colour of each class in <paramref name="mask"/>
    /// [H, W] at weight <paramref name="alpha"/>, rounding halves up; class 0 (background) and the ignore value 255
    /// are left as they are. Returns an RGB image.
    /// </summary>
    public static Image Draw(Image image, LongTensor mask, double alpha = 0.5, byte[]? palette = null)
    {
        if (mask.Dim != 2 || mask.Shape[0] != image.Height || mask.Shape[1] != image.Width)
            throw new ArgumentException($"Overlay.Draw: expected a mask [{image.Height}, {image.Width}] for a {image.Width}×{image.Height} image, got {ShapeUtil.Format(mask.Shape.ToArray())}");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"Overlay.Draw: expected alpha in [0, 1], got {alpha}");
        palette ??= Image.VocPalette();
        var rgb = image.ToChannels(3);
        var result = new Image(rgb.Width, rgb.Height, 3, (byte[])rgb.Data.Clone());
        var ids = mask.ToArray();
        for (int i = 0; i < ids.Length; i++)
        {
            long k = ids[i];
            if (k <= 0 || k == 255 || 3 * k + 2 >= palette.Length) continue;
            for (int c = 0; c < 3; c++)
                result.Data[3 * i + c] = (byte)Math.Floor((1 - alpha) * rgb.Data[3 * i + c] + alpha * palette[3 * k + c] + 0.5);
        }
        return result;
    }

    /// <summary>As <see cref="Draw(Image, LongTensor, double, byte[])"/> for an image tensor [C, H, W] with values in [0, 1].</summary>
    public static Image Draw(Tensor image, LongTensor mask, double alpha = 0.5, byte[]? palette = null) =>
        Draw(Image.FromTensor(image), mask, alpha, palette);
}
