using System.Buffers.Binary;

namespace ConvKit.Vision.Imaging.Png;

/// <summary>The IHDR chunk, validated: size within <see cref="ImageLimits"/>, bit depth allowed for the colour type.</summary>
internal sealed record PngHeader(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    public const int Grey = 0, Rgb = 2, Indexed = 3, GreyAlpha = 4, Rgba = 6;

    /// <summary>Samples per pixel in the file.</summary>
    public int Samples => ColorType switch { Rgb => 3, GreyAlpha => 2, Rgba => 4, _ => 1 };

    public int BitsPerPixel => Samples * BitDepth;

    /// <summary>The byte distance filters look back: one pixel, at least one byte.</summary>
    public int FilterStride => Math.Max(1, BitsPerPixel / 8);

    /// <summary>Bytes of one filtered row of <paramref name="width"/> pixels, without its filter-type byte.</summary>
    public long RowBytes(int width) => ((long)width * BitsPerPixel + 7) / 8;

    /// <summary>Channels of the decoded 8-bit image: the file's samples (a palette image keeps its indices).</summary>
    public int OutputChannels => Samples;

    public static PngHeader Parse(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length != 13)
            throw new ImageFormatException($"{source}: PNG IHDR chunk must hold 13 bytes, got {data.Length}");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(data), height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        int depth = data[8], colorType = data[9];
        int[]? allowed = colorType switch
        {
            Grey => [1, 2, 4, 8, 16],
            Indexed => [1, 2, 4, 8],
            Rgb or GreyAlpha or Rgba => [8, 16],
            _ => null,
        };
        if (allowed is null)
            throw new ImageFormatException($"{source}: PNG IHDR colour type {colorType} is invalid; expected 0, 2, 3, 4 or 6");
        if (Array.IndexOf(allowed, depth) < 0)
            throw new ImageFormatException($"{source}: PNG IHDR bit depth {depth} is invalid for colour type {colorType}; expected one of {string.Join(", ", allowed)}");
        if (data[10] != 0) throw new ImageFormatException($"{source}: PNG IHDR compression method {data[10]} is invalid; expected 0 (deflate)");
        if (data[11] != 0) throw new ImageFormatException($"{source}: PNG IHDR filter method {data[11]} is invalid; expected 0");
        if (data[12] > 1) throw new ImageFormatException($"{source}: PNG IHDR interlace method {data[12]} is invalid; expected 0 (none) or 1 (Adam7)");
        var header = new PngHeader((int)Math.Min(width, int.MaxValue), (int)Math.Min(height, int.MaxValue), depth, colorType, data[12] == 1);
        ImageLimits.Check(source, "PNG IHDR", width, height, header.OutputChannels);
        return header;
    }
}
