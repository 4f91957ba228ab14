namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>One component of a frame and the 8-bit samples its blocks decode into.</summary>
internal sealed class JpegComponent
{
    public required int Id { get; init; }
    public required int H { get; init; }
    public required int V { get; init; }
    public required int QuantTable { get; init; }

    /// <summary>Width and height in samples before upsampling: ceil(image size * factor / max factor).</summary>
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>Blocks per row and column, padded to whole MCUs of an interleaved scan.</summary>
    public int BlocksPerLine { get; set; }
    public int BlocksPerColumn { get; set; }

    /// <summary>Decoded samples, <see cref="Stride"/> = 8 * <see cref="BlocksPerLine"/> per row.</summary>
    public byte[] Samples { get; set; } = [];
    public int Stride => BlocksPerLine * 8;

    /// <summary>The quantisation table in zigzag order, latched at the component's first scan as libjpeg does.</summary>
    public int[]? Quant { get; set; }

    public int DcPredictor { get; set; }
    public JpegHuffman? Dc { get; set; }
    public JpegHuffman? Ac { get; set; }
    public bool Decoded { get; set; }
}

/// <summary>A baseline or extended sequential frame (SOF0/SOF1): size, components and the MCU grid.</summary>
internal sealed class JpegFrame
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required JpegComponent[] Components { get; init; }
    public int HMax => Components.Max(c => c.H);
    public int VMax => Components.Max(c => c.V);
    public int McusPerLine => (Width + 8 * HMax - 1) / (8 * HMax);
    public int McusPerColumn => (Height + 8 * VMax - 1) / (8 * VMax);

    /// <summary>
    /// Sizes every component and allocates its sample plane; <paramref name="entropyBytes"/> bounds the
    /// blocks a file can honestly hold (each block costs at least two bits: a DC code and an EOB).
    /// </summary>
    public void Allocate(long entropyBytes, string source)
    {
        long blocks = 0;
        foreach (var c in Components)
        {
            c.Width = (int)(((long)Width * c.H + HMax - 1) / HMax);
            c.Height = (int)(((long)Height * c.V + VMax - 1) / VMax);
            c.BlocksPerLine = McusPerLine * c.H;
            c.BlocksPerColumn = McusPerColumn * c.V;
            blocks += (long)((c.Width + 7) / 8) * ((c.Height + 7) / 8);
        }
        if (blocks > entropyBytes * 4 + 64)
            throw new ImageFormatException($"{source}: JPEG frame of {Width}x{Height} needs {blocks} coded blocks, but the {entropyBytes} bytes left in the file can hold at most {entropyBytes * 4} (truncated file?)");
        foreach (var c in Components) c.Samples = new byte[(long)c.Stride * c.BlocksPerColumn * 8];
    }
}
