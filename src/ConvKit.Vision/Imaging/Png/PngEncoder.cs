using System.Buffers.Binary;
using System.IO.Compression;

namespace ConvKit.Vision.Imaging.Png;

/// <summary>
/// Writes an 8-bit PNG: grey, grey+alpha, RGB, RGBA, or palette (with tRNS when the image has palette
/// alpha). Rows of direct-colour images get the filter of <see cref="PngFilters.Choose"/>; palette rows
/// stay unfiltered, as the PNG specification recommends, since index differences mean nothing.
/// </summary>
internal static class PngEncoder
{
    private const int MaxIdatBytes = 1 << 18;

    public static void Encode(Image image, Stream output)
    {
        int channels = image.Channels, width = image.Width;
        int colorType = image.IsIndexed ? PngHeader.Indexed
            : channels switch { 1 => PngHeader.Grey, 2 => PngHeader.GreyAlpha, 3 => PngHeader.Rgb, _ => PngHeader.Rgba };
        output.Write(PngChunkReader.Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)image.Height);
        ihdr[8] = 8;
        ihdr[9] = (byte)colorType;
        PngChunkReader.Write(output, "IHDR", ihdr);
        if (image.Palette is not null) PngChunkReader.Write(output, "PLTE", image.Palette);
        if (image.PaletteAlpha is { Length: > 0 }) PngChunkReader.Write(output, "tRNS", image.PaletteAlpha);

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            int stride = width * channels;
            var scratch = new byte[PngFilters.Count][];
            for (int t = 0; t < PngFilters.Count; t++) scratch[t] = new byte[stride];
            var zeros = new byte[stride];
            for (int y = 0; y < image.Height; y++)
            {
                var row = image.Data.AsSpan(y * stride, stride);
                var prior = y == 0 ? zeros : image.Data.AsSpan((y - 1) * stride, stride);
                int filter = image.IsIndexed ? 0 : PngFilters.Choose(row, prior, channels, scratch);
                if (image.IsIndexed) row.CopyTo(scratch[0]);
                zlib.WriteByte((byte)filter);
                zlib.Write(scratch[filter]);
            }
        }
        var data = compressed.GetBuffer().AsSpan(0, (int)compressed.Length);
        for (int at = 0; at < data.Length; at += MaxIdatBytes)
            PngChunkReader.Write(output, "IDAT", data.Slice(at, Math.Min(MaxIdatBytes, data.Length - at)));
        PngChunkReader.Write(output, "IEND", []);
    }
}
