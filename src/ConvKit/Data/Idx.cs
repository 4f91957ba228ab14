using System.IO.Compression;
using System.Numerics;

namespace ConvKit.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: a magic 00 00 type ndims, ndims big-endian
/// int32 sizes, then the data. Plain and gzip files are accepted (gzip recognised by its 1f 8b magic, not
/// by the file name). Files are untrusted: the header is validated and the claimed size bounded before
/// anything is allocated, gzip output is buffered only as fast as it actually arrives, and every defect
/// (bad magic, zero or huge dims, truncated or trailing data, corrupt compression) raises
/// <see cref="DataFormatException"/> naming the file, what was expected and what came.
/// </summary>
public static class Idx
{
    /// <summary>The default bound on a file's data size: the largest .NET array.</summary>
    public const long DefaultMaxDataBytes = 0x7FFFFFC7;

    /// <summary>Images [N, 1, rows, cols] scaled to [0, 1] from an images file (magic 0x00000803); see <see cref="IdxFile.ToImages"/>.</summary>
    public static Tensor ReadImages(string path) => Read(path).ToImages();

    /// <summary>Labels [N] (int64) from a labels file (magic 0x00000801); see <see cref="IdxFile.ToLabels"/>.</summary>
    public static LongTensor ReadLabels(string path) => Read(path).ToLabels();

    /// <summary>
    /// The raw dims and bytes of an IDX file of any element type, plain or gzip. <paramref name="maxDataBytes"/>
    /// (at most <see cref="DefaultMaxDataBytes"/>) bounds the data size the header may claim.
    /// </summary>
    public static IdxFile Read(string path, long maxDataBytes = DefaultMaxDataBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Read(file, path, maxDataBytes);
    }

    /// <summary>
    /// Reads an IDX file from a readable, seekable stream, from its current position to its end.
    /// <paramref name="source"/> names the data in messages.
    /// </summary>
    public static IdxFile Read(Stream stream, string source = "IDX stream", long maxDataBytes = DefaultMaxDataBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
            throw new ArgumentException($"Idx.Read: expected a readable, seekable stream for {source}", nameof(stream));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDataBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDataBytes, DefaultMaxDataBytes);
        long start = stream.Position, length = stream.Length - start;
        Span<byte> signature = stackalloc byte[2];
        bool gzip = stream.ReadAtLeast(signature, 2, throwOnEndOfStream: false) == 2 && signature[0] == 0x1f && signature[1] == 0x8b;
        stream.Position = start;
        if (!gzip) return Parse(stream, source, maxDataBytes, length, compressedLength: 0);
        IdxFile file;
        try
        {
            using var inflated = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            file = Parse(inflated, source + " (gzip)", maxDataBytes, plainLength: null, compressedLength: length);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{source}: corrupt gzip data: {e.Message}", e);
        }
        CheckGzipTrailer(stream, start + length, 4 + 4L * file.Dims.Count + file.Data.Length, source);
        return file;
    }

    /// <summary>
    /// GZipStream verifies the CRC only when the 8-byte trailer is complete and ignores bytes after the gzip
    /// member, so the file's last four bytes, the trailer's size field (ISIZE, little-endian, mod 2^32), must
    /// equal the number of bytes inflated: otherwise the trailer was cut off or something follows it.
    /// </summary>
    private static void CheckGzipTrailer(Stream stream, long end, long inflated, string source)
    {
        Span<byte> isize = stackalloc byte[4];
        stream.Position = end - 4;
        stream.ReadExactly(isize);
        uint recorded = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(isize);
        if (recorded != (uint)inflated)
            throw new DataFormatException(
                $"{source}: the gzip trailer does not match the data: its size field says {recorded} bytes, {inflated} were inflated " +
                "(a truncated gzip file, bytes after the gzip stream, or a multi-member gzip file, which is not supported)");
    }

    private static IdxFile Parse(Stream s, string source, long maxDataBytes, long? plainLength, long compressedLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got == 0)
            throw new DataFormatException($"{source}: {(plainLength is null ? "no data in the gzip stream (empty or truncated)" : "empty file")}; expected an IDX header starting with the magic 00 00 <type> <ndims>");
        if (got < 4) throw new DataFormatException($"{source}: truncated header: expected 4 magic bytes, got {got}");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataFormatException($"{source}: not an IDX file: expected magic 00 00 <type> <ndims>, got {Convert.ToHexString(magic)}");
        var type = (IdxElementType)magic[2];
        int elementSize = IdxFile.ElementSize(type);
        if (elementSize == 0)
            throw new DataFormatException($"{source}: unknown IDX element type 0x{magic[2]:X2}; expected 08 (uint8), 09 (int8), 0B (int16), 0C (int32), 0D (float32) or 0E (float64)");
        int rank = magic[3];
        if (rank == 0) throw new DataFormatException($"{source}: IDX header declares 0 dimensions; expected at least 1");

        var dimBytes = new byte[4 * rank];
        got = s.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
            throw new DataFormatException($"{source}: truncated header: {rank} dimensions need {4 + dimBytes.Length} header bytes, got {4 + got}");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            uint d = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (d == 0 || d > int.MaxValue)
                throw new DataFormatException($"{source}: dimension {i} of the IDX header is {d}; expected 1 to {int.MaxValue}");
            dims[i] = (int)d;
        }
        long bytes = DataBytes(dims, elementSize, maxDataBytes, source, type);
        long header = 4 + 4L * rank;

        byte[] data;
        if (plainLength is long total)
        {
            long available = total - header;
            if (available != bytes) throw SizeMismatch(source, dims, bytes, available, exact: true);
            data = new byte[bytes];
            got = s.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (got != bytes) throw SizeMismatch(source, dims, bytes, got, exact: true);
        }
        else
        {
            data = ReadGrowing(s, bytes, compressedLength, out long filled);
            if (filled < bytes) throw SizeMismatch(source, dims, bytes, filled, exact: true);
            long trailing = CountTrailing(s);
            if (trailing > 0) throw SizeMismatch(source, dims, bytes, bytes + trailing, exact: trailing < TrailingProbeLimit);
        }
        return new IdxFile(source, type, dims, data);
    }

    /// <summary>Product of the dims times the element size, checked against the bound without overflow.</summary>
    private static long DataBytes(int[] dims, int elementSize, long maxDataBytes, string source, IdxElementType type)
    {
        long bytes = elementSize;
        foreach (int d in dims)
        {
            if (bytes > maxDataBytes / d)
            {
                var claimed = dims.Aggregate(new BigInteger(elementSize), (p, v) => p * v);
                throw new DataFormatException(
                    $"{source}: IDX header dims {ShapeUtil.Format(dims)} of {IdxFile.Describe(type)} claim {claimed} data bytes; expected at most {maxDataBytes}");
            }
            bytes *= d;
        }
        return bytes;
    }

    private static DataFormatException SizeMismatch(string source, int[] dims, long expected, long actual, bool exact)
    {
        string what = actual < expected ? "truncated data" : "trailing data after the IDX data";
        return new DataFormatException(
            $"{source}: {what}: the header (dims {ShapeUtil.Format(dims)}) claims {expected} data bytes, got {(exact ? "" : "more than ")}{actual}");
    }

    /// <summary>
    /// Reads up to <paramref name="bytes"/> from a stream of unknown length, growing the buffer as data
    /// arrives: the claim caps the allocation but never forces it.
    /// </summary>
    private static byte[] ReadGrowing(Stream s, long bytes, long compressedLength, out long filled)
    {
        var buffer = new byte[Math.Min(bytes, Math.Max(1L << 20, compressedLength * 8))];
        filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled == bytes) return buffer;
                Array.Resize(ref buffer, (int)Math.Min(bytes, 2L * buffer.Length));
            }
            int n = s.Read(buffer, (int)filled, buffer.Length - (int)filled);
            if (n == 0) return buffer;
            filled += n;
        }
    }

    private const long TrailingProbeLimit = 1 << 20;

    private static long CountTrailing(Stream s)
    {
        Span<byte> probe = stackalloc byte[4096];
        long count = 0;
        int n;
        while (count < TrailingProbeLimit && (n = s.Read(probe)) > 0) count += n;
        return count;
    }
}
