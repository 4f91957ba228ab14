namespace ConvKit.Vision.Imaging.Png;

/// <summary>
/// The passes of a PNG image: one for a plain image, the seven Adam7 passes for an interlaced one.
/// Each pass is a sub-image of every <c>XStep</c>-th pixel from <c>X0</c> in every <c>YStep</c>-th row from
/// <c>Y0</c>; a pass with no pixels has no rows in the data, not even filter bytes.
/// </summary>
internal readonly record struct PngPass(int X0, int Y0, int XStep, int YStep, int Width, int Height)
{
    private static readonly (int X0, int Y0, int XStep, int YStep)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    public bool IsEmpty => Width == 0 || Height == 0;

    public static PngPass[] For(PngHeader header)
    {
        if (!header.Interlaced) return [new PngPass(0, 0, 1, 1, header.Width, header.Height)];
        return Array.ConvertAll(Adam7, p => new PngPass(p.X0, p.Y0, p.XStep, p.YStep,
            Math.Max(0, (header.Width - p.X0 + p.XStep - 1) / p.XStep), Math.Max(0, (header.Height - p.Y0 + p.YStep - 1) / p.YStep)));
    }

    /// <summary>Bytes of inflated data all passes need: each row is a filter byte plus its packed samples.</summary>
    public static long DataBytes(PngHeader header, PngPass[] passes)
    {
        long total = 0;
        foreach (var p in passes)
            if (!p.IsEmpty) total += p.Height * (1 + header.RowBytes(p.Width));
        return total;
    }
}
