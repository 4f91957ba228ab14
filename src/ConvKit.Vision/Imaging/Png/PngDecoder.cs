using System.IO.Compression;

namespace ConvKit.Vision.Imaging.Png;

/// <summary>
/// Decodes a PNG file held in memory: every colour type and bit depth of the specification, PLTE and
/// tRNS, all five filters, Adam7 interlacing, several IDAT chunks. Chunk CRCs are checked, the size in
/// IHDR is bounded before anything is allocated, and inflation stops at the size the header implies,
/// so a small file can never claim gigabytes. Samples become 8-bit as described in <see cref="PngSamples"/>.
/// </summary>
internal static class PngDecoder
{
    /// <summary>
    /// Deflate's best case packs 258 bytes into a 2-bit code, about 1032:1; a header claiming more
    /// inflated bytes than that over the compressed bytes present cannot be honest.
    /// </summary>
    private const long MaxDeflateRatio = 1032;

    public static bool HasSignature(ReadOnlySpan<byte> file) => file.StartsWith(PngChunkReader.Signature);

    /// <summary>
    /// The decoded image. A palette image keeps its indices and palette when <paramref name="keepIndices"/>
    /// is set; otherwise it is expanded to RGB, or RGBA when it has a tRNS chunk.
    /// </summary>
    public static Image Decode(byte[] file, string source, bool keepIndices)
    {
        if (!HasSignature(file))
            throw new ImageFormatException($"{source}: not a PNG file: expected the signature 89 50 4E 47 0D 0A 1A 0A, got {Convert.ToHexString(file.AsSpan(0, Math.Min(8, file.Length)))}");
        var chunks = new PngChunkReader(file, source);
        var first = chunks.Next();
        if (first.Type != "IHDR")
            throw new ImageFormatException($"{source}: PNG must start with an IHDR chunk, got {first.Type}");
        var header = PngHeader.Parse(file.AsSpan(first.Offset, first.Length), source);
        byte[]? palette = null, paletteAlpha = null;
        var idat = new List<PngChunk>();
        while (true)
        {
            var chunk = chunks.Next();
            var data = file.AsSpan(chunk.Offset, chunk.Length);
            switch (chunk.Type)
            {
                case "IEND":
                    break;
                case "IDAT":
                    idat.Add(chunk);
                    continue;
                case "PLTE":
                    if (palette is not null) throw new ImageFormatException($"{source}: PNG has a second PLTE chunk");
                    if (idat.Count > 0) throw new ImageFormatException($"{source}: PNG PLTE chunk must come before the IDAT chunks");
                    if (chunk.Length == 0 || chunk.Length % 3 != 0 || chunk.Length > 768)
                        throw new ImageFormatException($"{source}: PNG PLTE chunk must hold 1 to 256 RGB triples, got {chunk.Length} bytes");
                    if (header.ColorType == PngHeader.Indexed) palette = data.ToArray();
                    continue;
                case "tRNS":
                    if (header.ColorType == PngHeader.Indexed) paletteAlpha = data.ToArray();
                    else CheckTransparency(header, chunk.Length, source);
                    continue;
                case "IHDR":
                    throw new ImageFormatException($"{source}: PNG has a second IHDR chunk");
                default:
                    if (chunk.IsCritical)
                        throw new ImageFormatException($"{source}: PNG has an unknown critical chunk {chunk.Type}; expected IHDR, PLTE, IDAT or IEND");
                    continue;
            }
            break;
        }
        if (idat.Count == 0) throw new ImageFormatException($"{source}: PNG has no IDAT chunk");
        if (header.ColorType == PngHeader.Indexed)
        {
            if (palette is null) throw new ImageFormatException($"{source}: PNG palette image (colour type 3) has no PLTE chunk");
            if (paletteAlpha is not null && paletteAlpha.Length > palette.Length / 3)
                throw new ImageFormatException($"{source}: PNG tRNS chunk holds {paletteAlpha.Length} alpha values; expected at most one per palette entry ({palette.Length / 3})");
        }

        var passes = PngPass.For(header);
        var raw = Inflate(file, idat, PngPass.DataBytes(header, passes), source);
        var pixels = Reconstruct(header, passes, raw, source);
        var image = new Image(header.Width, header.Height, header.OutputChannels, pixels, palette, paletteAlpha);
        return keepIndices ? image : image.ToRgb();
    }

    private static void CheckTransparency(PngHeader header, int length, string source)
    {
        int expected = header.ColorType switch { PngHeader.Grey => 2, PngHeader.Rgb => 6, _ => length };
        if (length != expected)
            throw new ImageFormatException($"{source}: PNG tRNS chunk for colour type {header.ColorType} must hold {expected} bytes, got {length}");
    }

    private static byte[] Inflate(byte[] file, List<PngChunk> idat, long expected, string source)
    {
        long compressed = idat.Sum(c => (long)c.Length);
        if (expected > compressed * MaxDeflateRatio + 1024)
            throw new ImageFormatException($"{source}: PNG image data is truncated: the header implies {expected} inflated bytes, but {compressed} compressed bytes can hold at most {compressed * MaxDeflateRatio + 1024}");
        var joined = new byte[compressed];
        int at = 0;
        foreach (var c in idat)
        {
            file.AsSpan(c.Offset, c.Length).CopyTo(joined.AsSpan(at));
            at += c.Length;
        }
        var raw = new byte[expected];
        int got;
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(joined), CompressionMode.Decompress);
            got = zlib.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException($"{source}: PNG image data is not valid zlib data: {e.Message}", e);
        }
        if (got < expected)
            throw new ImageFormatException($"{source}: PNG image data is truncated: expected {expected} inflated bytes, got {got}");
        return raw;
    }

    private static byte[] Reconstruct(PngHeader header, PngPass[] passes, byte[] raw, string source)
    {
        int channels = header.OutputChannels, width = header.Width;
        var pixels = new byte[(long)width * header.Height * channels];
        int bpp = header.FilterStride, position = 0;
        foreach (var pass in passes)
        {
            if (pass.IsEmpty) continue;
            int rowBytes = (int)header.RowBytes(pass.Width);
            var zeros = new byte[rowBytes];
            var samples = new byte[pass.Width * channels];
            for (int r = 0; r < pass.Height; r++)
            {
                int filter = raw[position];
                if (filter >= PngFilters.Count)
                    throw new ImageFormatException($"{source}: PNG row {r} of {(passes.Length > 1 ? "an Adam7 pass" : "the image")} has filter type {filter}; expected 0 to 4");
                var row = raw.AsSpan(position + 1, rowBytes);
                var prior = r == 0 ? zeros : raw.AsSpan(position - rowBytes, rowBytes);
                PngFilters.Unfilter(filter, row, prior, bpp);
                position += 1 + rowBytes;
                int y = pass.Y0 + r * pass.YStep;
                if (pass.XStep == 1)
                {
                    PngSamples.Expand(header, row, pixels.AsSpan(y * width * channels, width * channels));
                    continue;
                }
                PngSamples.Expand(header, row, samples);
                for (int i = 0; i < pass.Width; i++)
                    samples.AsSpan(i * channels, channels).CopyTo(pixels.AsSpan((y * width + pass.X0 + i * pass.XStep) * channels));
            }
        }
        return pixels;
    }
}
