using ConvKit.Data;
using Xunit;

namespace ConvKit.Tests.Data;

/// <summary>The IDX reader: round trips, every malformed header or size, and no allocation on a bad claim.</summary>
public class IdxTests
{
    private static readonly Func<int, byte> Pixel = i => (byte)(i * 37 % 256);

    private static Func<byte[], byte[]> Encoding(bool gzip) => gzip ? IdxBytes.Gzip : b => b;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesAndLabelsRoundTrip(bool gzip)
    {
        using var dir = new TempDir();
        var encode = Encoding(gzip);
        // Names lie about the compression: detection goes by the 1f 8b magic.
        string images = dir.Write(gzip ? "images.idx" : "images.gz", encode(IdxBytes.Images(3, 4, 5, Pixel)));
        string labels = dir.Write("labels", encode(IdxBytes.Labels(7, 0, 255)));

        var x = Idx.ReadImages(images);
        Assert.Equal([3, 1, 4, 5], x.Shape);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => Pixel(i) / 255f), x.ToArray());
        Assert.Equal([7L, 0, 255], Idx.ReadLabels(labels).ToArray());

        var raw = Idx.Read(images);
        Assert.Equal(0x00000803u, raw.Magic);
        Assert.Equal(IdxElementType.UInt8, raw.ElementType);
        Assert.Equal([3, 4, 5], raw.Dims);
        Assert.Equal(Enumerable.Range(0, 60).Select(Pixel), raw.Data);
    }

    [Fact]
    public void RawReaderKeepsOtherElementTypesAsStoredBytes()
    {
        var data = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var file = IdxBytes.Parse(IdxBytes.Make(0x0C, [2, 2], data));
        Assert.Equal(IdxElementType.Int32, file.ElementType);
        Assert.Equal(0x00000C02u, file.Magic);
        Assert.Equal(data, file.Data);
    }

    public static TheoryData<string, byte[], string[]> Malformed => new()
    {
        { "empty", [], ["empty file", "00 00 <type> <ndims>"] },
        { "short magic", [0, 0, 8], ["truncated header", "4 magic bytes, got 3"] },
        { "bad magic", IdxBytes.Make(0x08, [1], [0]).Select((b, i) => i == 0 ? (byte)0x12 : b).ToArray(), ["not an IDX file", "12000801"] },
        { "unknown type", IdxBytes.Make(0x07, [1], [0]), ["unknown IDX element type 0x07", "08 (uint8)"] },
        { "no dims", [0, 0, 8, 0], ["0 dimensions", "at least 1"] },
        { "short dims", [0, 0, 8, 3, 0, 0, 0, 1], ["truncated header", "16 header bytes, got 8"] },
        { "zero dim", IdxBytes.Make(0x08, [2, 0, 3], []), ["dimension 1", "is 0", "expected 1 to 2147483647"] },
        { "2^31 rows", IdxBytes.Make(0x08, [1u << 31, 28, 28], []), ["dimension 0", "2147483648", "expected 1 to 2147483647"] },
        { "huge product", IdxBytes.Make(0x08, [100000, 100000, 100000], []), ["[100000, 100000, 100000]", "claim 1000000000000000 data bytes", "at most 2147483591"] },
        { "huge product of int32", IdxBytes.Make(0x0C, [65536, 65536], []), ["of int32", "claim 17179869184 data bytes"] },
        { "truncated data", IdxBytes.Make(0x08, [2, 3, 4], new byte[20]), ["truncated data", "claims 24 data bytes, got 20"] },
        { "trailing data", IdxBytes.Make(0x08, [2, 3, 4], new byte[27]), ["trailing data", "claims 24 data bytes, got 27"] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedPlainFileIsRejected(string what, byte[] file, string[] fragments) => Rejects(what, file, fragments);

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedGzipFileIsRejected(string what, byte[] file, string[] fragments)
    {
        var gz = IdxBytes.Gzip(file);
        if (gz.Length == 0) return; // GZipStream writes nothing for no input: the plain test covers it
        Rejects(what, gz, [.. fragments.Where(f => f != "empty file"), "(gzip)"]);
    }

    private static void Rejects(string what, byte[] file, string[] fragments)
    {
        var e = Assert.Throws<DataFormatException>(() => IdxBytes.Parse(file));
        Assert.StartsWith("test.idx", e.Message);
        foreach (var f in fragments) Assert.True(e.Message.Contains(f), $"{what}: expected '{f}' in: {e.Message}");
    }

    [Fact]
    public void TruncatedGzipIsRejectedWherever()
    {
        var gz = IdxBytes.Gzip(IdxBytes.Images(4, 8, 8, Pixel));
        for (int keep = 1; keep < gz.Length; keep++)
        {
            var e = Assert.Throws<DataFormatException>(() => IdxBytes.Parse(gz[..keep]));
            Assert.StartsWith("test.idx", e.Message);
        }
        Assert.Contains("no data in the gzip stream", Assert.Throws<DataFormatException>(() => IdxBytes.Parse(gz[..12])).Message);
        Assert.Contains("gzip trailer does not match", Assert.Throws<DataFormatException>(() => IdxBytes.Parse(gz[..^3])).Message);
    }

    [Fact]
    public void CorruptOrTrailingGzipBytesAreRejected()
    {
        var gz = IdxBytes.Gzip(IdxBytes.Labels(1, 2, 3));
        var e = Assert.Throws<DataFormatException>(() => IdxBytes.Parse([.. gz, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
        Assert.Contains("bytes after the gzip stream", e.Message);
        var badCrc = (byte[])gz.Clone();
        badCrc[^6] ^= 1;
        Assert.Throws<DataFormatException>(() => IdxBytes.Parse(badCrc));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesAndLabelsInsistOnTheirMagic(bool gzip)
    {
        using var dir = new TempDir();
        var encode = Encoding(gzip);
        string labels = dir.Write("labels", encode(IdxBytes.Labels(1, 2)));
        string images = dir.Write("images", encode(IdxBytes.Images(1, 2, 2, Pixel)));
        string volume = dir.Write("volume", encode(IdxBytes.Make(0x08, [1, 1, 2, 2], new byte[4])));

        var e = Assert.Throws<DataFormatException>(() => Idx.ReadImages(labels));
        Assert.Contains("expected IDX magic 0x00000803 (uint8 images [N, rows, cols]), got 0x00000801 (uint8, 1 dimension [2])", e.Message);
        e = Assert.Throws<DataFormatException>(() => Idx.ReadLabels(images));
        Assert.Contains("expected IDX magic 0x00000801 (uint8 labels [N]), got 0x00000803", e.Message);
        e = Assert.Throws<DataFormatException>(() => Idx.ReadImages(volume));
        Assert.Contains("got 0x00000804 (uint8, 4 dimensions [1, 1, 2, 2])", e.Message);
    }

    [Fact]
    public void ACallerBoundRejectsLargerFiles()
    {
        var e = Assert.Throws<DataFormatException>(() => IdxBytes.Parse(IdxBytes.Images(2, 3, 4, Pixel), maxDataBytes: 10));
        Assert.Contains("claim 24 data bytes; expected at most 10", e.Message);
    }

    public static TheoryData<string, byte[]> HugeClaims => new()
    {
        // Over the bound: rejected from the header alone.
        { "10^15 bytes", IdxBytes.Make(0x08, [100000, 100000, 100000], new byte[64]) },
        // Within the bound but far beyond the data: plain files are checked against their length, ...
        { "10^9 bytes, plain", IdxBytes.Make(0x08, [1000, 1000, 1000], new byte[64]) },
        // ... gzip output is buffered only as it arrives.
        { "10^9 bytes, gzip", IdxBytes.Gzip(IdxBytes.Make(0x08, [1000, 1000, 1000], new byte[64])) },
    };

    [Theory]
    [MemberData(nameof(HugeClaims))]
    public void AHugeClaimFailsWithoutAllocatingIt(string what, byte[] file)
    {
        Assert.Throws<DataFormatException>(() => IdxBytes.Parse(file)); // warm up JIT and gzip
        var stream = new MemoryStream(file);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DataFormatException>(() => Idx.Read(stream, what));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 << 20, $"{what}: allocated {allocated} bytes to reject the file");
    }
}
