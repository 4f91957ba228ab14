using System.Buffers.Binary;
using System.Text;

namespace ConvKit.Vision.Imaging.Png;

/// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320, the same as zlib's crc32).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}

/// <summary>One chunk of a PNG file: its four-letter type and where its data lies in the file.</summary>
internal readonly record struct PngChunk(string Type, int Offset, int Length)
{
    /// <summary>Critical chunks (IHDR, PLTE, IDAT, IEND, unknown ones) have an upper-case first letter.</summary>
    public bool IsCritical => char.IsAsciiLetterUpper(Type[0]);
}

/// <summary>
/// Walks the chunks of a PNG file held in memory. Each chunk's length is checked against the bytes
/// left before its data is touched, and its CRC is verified, so later stages see only whole chunks.
/// </summary>
internal sealed class PngChunkReader(byte[] file, string source)
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private int _position = Signature.Length;

    public bool AtEnd => _position >= file.Length;

    public PngChunk Next()
    {
        long left = file.Length - _position;
        if (left < 12)
            throw new ImageFormatException($"{source}: PNG truncated at byte {_position}: expected a chunk header and CRC (12 bytes), got {left} bytes (missing IEND?)");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(_position));
        var typeBytes = file.AsSpan(_position + 4, 4);
        foreach (byte b in typeBytes)
            if (!char.IsAsciiLetter((char)b))
                throw new ImageFormatException($"{source}: PNG chunk at byte {_position}: expected a four-letter chunk type, got bytes {Convert.ToHexString(typeBytes)}");
        string type = Encoding.ASCII.GetString(typeBytes);
        if (length > left - 12)
            throw new ImageFormatException($"{source}: PNG {type} chunk at byte {_position} claims {length} data bytes, but only {left - 12} remain before its CRC (truncated file?)");
        int offset = _position + 8;
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(offset + (int)length));
        uint actual = Crc32.Compute(file.AsSpan(_position + 4, 4 + (int)length));
        if (stored != actual)
            throw new ImageFormatException($"{source}: PNG {type} chunk CRC mismatch (expected 0x{actual:X8}, got 0x{stored:X8})");
        _position = offset + (int)length + 4;
        return new PngChunk(type, offset, (int)length);
    }

    /// <summary>Appends one chunk (length, type, data, CRC) to <paramref name="output"/>.</summary>
    public static void Write(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, header[4..]), data) ^ 0xFFFFFFFFu;
        output.Write(header);
        output.Write(data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        output.Write(trailer);
    }
}
