using ConvKit.Vision.Imaging;

namespace ConvKit.Cli;

/// <summary>
/// Feature maps [C, h, w] as one grey image: each channel min-max normalised to [0, 1] (a constant channel becomes
/// 0.5), scaled up by an integer factor (nearest) so a tile's longer side reaches <c>minTile</c> pixels, and tiled
/// row by row into ⌈√C⌉ columns and ⌈C / columns⌉ rows with a 1-pixel white separator between tiles.
/// </summary>
internal static class FeatureGrid
{
    public const byte Separator = 255;

    /// <summary>Columns, rows and the integer upscale factor for <paramref name="channels"/> maps of h x w.</summary>
    public static (int Columns, int Rows, int Scale) Layout(int channels, int h, int w, int minTile)
    {
        int columns = (int)Math.Ceiling(Math.Sqrt(channels));
        int rows = (channels + columns - 1) / columns;
        int scale = Math.Max(1, (minTile + Math.Max(h, w) - 1) / Math.Max(h, w));
        return (columns, rows, scale);
    }

    /// <summary>Each plane of [C, h, w] scaled to [0, 1] by its own minimum and maximum; constant planes (or NaN ones) give 0.5.</summary>
    public static float[] NormalizeChannels(Tensor maps)
    {
        var v = maps.Contiguous().ToArray();
        int plane = maps.Size(1) * maps.Size(2);
        for (int c = 0; c < maps.Size(0); c++)
        {
            var p = v.AsSpan(c * plane, plane);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (var x in p) { if (x < min) min = x; if (x > max) max = x; }
            float range = max - min;
            for (int i = 0; i < p.Length; i++) p[i] = range > 0 && float.IsFinite(range) ? (p[i] - min) / range : 0.5f;
        }
        return v;
    }

    /// <summary>The grid image of feature maps [C, h, w].</summary>
    public static Image Build(Tensor maps, int minTile = 32)
    {
        if (maps.Dim != 3) throw new ArgumentException($"FeatureGrid: expected feature maps [C, h, w], got {ModelInput.FormatShape(maps.Shape)}");
        int channels = maps.Size(0), h = maps.Size(1), w = maps.Size(2);
        var (columns, rows, scale) = Layout(channels, h, w, minTile);
        int tileH = h * scale, tileW = w * scale;
        int width = columns * tileW + columns - 1, height = rows * tileH + rows - 1;
        var image = new Image(width, height, 1);
        image.Data.AsSpan().Fill(Separator);
        var values = NormalizeChannels(maps);
        for (int c = 0; c < channels; c++)
        {
            int top = c / columns * (tileH + 1), left = c % columns * (tileW + 1);
            for (int y = 0; y < tileH; y++)
            for (int x = 0; x < tileW; x++)
                image.Data[(top + y) * width + left + x] = (byte)MathF.Round(values[(c * h + y / scale) * w + x / scale] * 255f);
        }
        return image;
    }
}
