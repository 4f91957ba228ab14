namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// Decodes the entropy-coded data of one sequential Huffman scan (JPEG Annex F): DC differences and
/// run-length AC coefficients per block, dequantised, inverse transformed with <see cref="JpegIdct"/>
/// straight into the components' sample planes. Handles interleaved scans (MCUs of H x V blocks per
/// component) and single-component scans (one block per MCU, over the component's own size), and
/// restart intervals.
/// </summary>
internal static class JpegScan
{
    /// <summary>Natural (row-major) index of the k-th coefficient in zigzag order.</summary>
    private static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    /// <summary>Decodes the scan starting at <paramref name="position"/>; returns where its data ends.</summary>
    public static int Decode(byte[] file, int position, JpegFrame frame, JpegComponent[] components, int restartInterval, string source)
    {
        var reader = new JpegBitReader(file, position, source);
        bool single = components.Length == 1;
        int mcusPerLine = single ? (components[0].Width + 7) / 8 : frame.McusPerLine;
        int mcusPerColumn = single ? (components[0].Height + 7) / 8 : frame.McusPerColumn;
        long total = (long)mcusPerLine * mcusPerColumn;
        Span<int> coefficients = stackalloc int[64], workspace = stackalloc int[64];
        foreach (var c in components) c.DcPredictor = 0;
        int restarts = 0;
        for (long m = 0; m < total; m++)
        {
            if (restartInterval > 0 && m > 0 && m % restartInterval == 0)
            {
                reader.Restart(restarts++ & 7);
                foreach (var c in components) c.DcPredictor = 0;
            }
            int mx = (int)(m % mcusPerLine), my = (int)(m / mcusPerLine);
            if (single)
            {
                DecodeBlock(reader, components[0], mx, my, coefficients, workspace);
            }
            else
            {
                foreach (var c in components)
                    for (int v = 0; v < c.V; v++)
                        for (int h = 0; h < c.H; h++)
                            DecodeBlock(reader, c, mx * c.H + h, my * c.V + v, coefficients, workspace);
            }
            if (reader.Overrun)
                throw new ImageFormatException($"{source}: JPEG entropy-coded data ends early: decoded {m} of {total} MCUs of a scan (truncated file?)");
        }
        foreach (var c in components) c.Decoded = true;
        return reader.Position;
    }

    private static void DecodeBlock(JpegBitReader reader, JpegComponent c, int bx, int by, Span<int> coefficients, Span<int> workspace)
    {
        var quant = c.Quant!;
        coefficients.Clear();
        unchecked
        {
            c.DcPredictor += reader.ReadSigned(c.Dc!.Decode(reader));
            coefficients[0] = c.DcPredictor * quant[0];
            for (int k = 1; k < 64; k++)
            {
                int rs = c.Ac!.Decode(reader), run = rs >> 4, size = rs & 15;
                if (size == 0)
                {
                    if (run != 15) break;
                    k += 15;
                    continue;
                }
                k += run;
                if (k > 63)
                    throw new ImageFormatException($"{reader.SourceName}: JPEG block has an AC coefficient beyond position 63 (corrupt data near byte {reader.Position})");
                coefficients[ZigZag[k]] = reader.ReadSigned(size) * quant[k];
            }
        }
        JpegIdct.Transform(coefficients, workspace, c.Samples, by * 8 * c.Stride + bx * 8, c.Stride);
    }
}
