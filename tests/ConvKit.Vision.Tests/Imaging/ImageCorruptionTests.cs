using System.Buffers.Binary;
using System.IO.Compression;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Imaging.Png;
using Xunit;

namespace ConvKit.Vision.Tests.Imaging;

/// <summary>
/// Files are untrusted: every truncation and thousands of seeded mutations of real files must either
/// decode or raise <see cref="ImageFormatException"/> / <see cref="UnsupportedImageException"/>, never
/// another exception or a hang; absurd headers are refused before the pixels are allocated.
/// </summary>
public class ImageCorruptionTests
{
    private const int Mutations = 2000;

    public static TheoryData<string> SmallFiles() => new(
        "png_c3_d2_adam7_13x9_trns.png", "png_c6_d16_plain_13x9.png", "png_c0_d1_adam7_5x9.png",
        "jpeg_cjpeg_restart1_420.jpg", "jpeg_cjpeg_noninterleaved_420.jpg", "jpeg_pil_17x11_q75_s1.jpg", "jpeg_cjpeg_440.jpg");

    [Theory]
    [MemberData(nameof(SmallFiles))]
    public void Every_truncation_throws_a_format_error(string file)
    {
        var bytes = ImageFixtures.Bytes(file);
        for (int length = 0; length < bytes.Length; length++)
        {
            bool decoded = Outcome(bytes.AsSpan(0, length).ToArray(), $"{file}[..{length}]");
            // a JPEG whose image data is complete may lack only its EOI marker, which libjpeg also tolerates
            Assert.False(decoded && !(file.EndsWith(".jpg") && length >= bytes.Length - 2), $"{file} truncated to {length} bytes decoded without error");
        }
    }

    [Theory]
    [MemberData(nameof(SmallFiles))]
    public void Random_byte_mutations_only_raise_typed_exceptions(string file)
    {
        var original = ImageFixtures.Bytes(file);
        var random = new Random(1234);
        int decoded = 0;
        for (int trial = 0; trial < Mutations; trial++)
        {
            var bytes = (byte[])original.Clone();
            int count = 1 + random.Next(4);
            for (int i = 0; i < count; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (file.EndsWith(".png") && trial % 2 == 0) RepairCrcs(bytes);
            if (Outcome(bytes, $"{file} mutation {trial}")) decoded++;
        }
        // both outcomes must occur, or the mutations never got past the first check
        Assert.InRange(decoded, 1, Mutations - 1);
    }

    [Fact]
    public void Mutated_png_image_data_reaches_the_filters_and_still_only_raises_typed_exceptions()
    {
        var original = ImageFixtures.Bytes("png_c2_d8_adam7_17x11.png");
        var (head, raw) = SplitPng(original);
        var random = new Random(99);
        for (int trial = 0; trial < 500; trial++)
        {
            var mutated = (byte[])raw.Clone();
            mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            int cut = trial % 5 == 0 ? random.Next(mutated.Length) : mutated.Length;
            Outcome(BuildPng(head, mutated.AsSpan(0, cut).ToArray()), $"raw mutation {trial}");
        }
    }

    [Fact]
    public void Bad_filter_type_is_reported_with_the_row()
    {
        var (head, raw) = SplitPng(ImageFixtures.Bytes("png_c0_d8_plain_13x9.png"));
        raw[2 * (1 + 13)] = 7;
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Read(new MemoryStream(BuildPng(head, raw)), "bad.png"));
        Assert.Equal("bad.png: PNG row 2 of the image has filter type 7; expected 0 to 4", e.Message);
    }

    [Fact]
    public void Crc_mismatch_names_the_chunk_and_both_values()
    {
        var bytes = ImageFixtures.Bytes("png_c2_d8_plain_13x9.png");
        bytes[16] ^= 1; // inside IHDR's width
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Read(new MemoryStream(bytes), "x.png"));
        Assert.Matches(@"^x\.png: PNG IHDR chunk CRC mismatch \(expected 0x[0-9A-F]{8}, got 0x[0-9A-F]{8}\)$", e.Message);
    }

    [Theory]
    [InlineData(65535u, 65535u, 6, 16, "at most 268435456 are allowed")]
    [InlineData(70000u, 1u, 0, 8, "expected width and height 1 to 65535")]
    [InlineData(0u, 5u, 0, 8, "expected width and height 1 to 65535")]
    [InlineData(16384u, 16384u, 0, 8, "compressed bytes can hold at most")]
    public void Absurd_png_sizes_throw_before_allocating(uint width, uint height, int colorType, int depth, string expected)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        var file = BuildPng(ihdr, new byte[100]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Read(new MemoryStream(file), "huge.png"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated a large buffer before refusing");
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(65535, 65535, 3, "at most 268435456 are allowed")]
    [InlineData(16000, 16000, 1, "needs 4000000 coded blocks")]
    public void Absurd_jpeg_sizes_throw_before_allocating(int width, int height, int components, string expected)
    {
        var bytes = ImageFixtures.Bytes(components == 1 ? "jpeg_pil_grey_13x9_q75.jpg" : "jpeg_pil_13x9_q75_s0.jpg");
        int sof = FindMarker(bytes, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), (ushort)width);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Read(new MemoryStream(bytes), "huge.jpg"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated a large buffer before refusing");
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(0xC3, "lossless (SOF3)")]
    [InlineData(0xC9, "arithmetic coding (SOF9)")]
    [InlineData(0xC2, "progressive DCT (SOF2)")]
    public void Other_frame_types_are_unsupported(int marker, string feature)
    {
        var bytes = ImageFixtures.Bytes("jpeg_pil_13x9_q75_s0.jpg");
        bytes[FindMarker(bytes, 0xC0) + 1] = (byte)marker;
        var e = Assert.Throws<UnsupportedImageException>(() => ImageFile.Read(new MemoryStream(bytes), "f.jpg"));
        Assert.Contains(feature, e.Message);
    }

    [Fact]
    public void Twelve_bit_jpeg_is_unsupported()
    {
        var bytes = ImageFixtures.Bytes("jpeg_pil_13x9_q75_s0.jpg");
        bytes[FindMarker(bytes, 0xC0) + 4] = 12;
        Assert.Contains("12-bit", Assert.Throws<UnsupportedImageException>(() => ImageFile.Read(new MemoryStream(bytes))).Message);
    }

    [Fact]
    public void Unknown_signature_is_a_format_error()
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Read(new MemoryStream("GIF89a.."u8.ToArray()), "a.gif"));
        Assert.StartsWith("a.gif: unknown image format: expected a PNG (89 50 4E 47) or JPEG (FF D8 FF) signature, got 4749463839612E2E", e.Message);
    }

    /// <summary>True when the data decoded; false after a typed exception; any other exception fails the test.</summary>
    private static bool Outcome(byte[] data, string what)
    {
        try
        {
            var image = ImageFile.Read(new MemoryStream(data), what);
            Assert.Equal(image.Width * image.Height * image.Channels, image.Data.Length);
            return true;
        }
        catch (ImageFormatException e)
        {
            Assert.StartsWith(what, e.Message);
            return false;
        }
        catch (UnsupportedImageException)
        {
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of a typed image exception: {e}");
            return false;
        }
    }

    /// <summary>Recomputes each chunk's CRC after a mutation, so the mutation reaches the code behind the CRC check.</summary>
    private static void RepairCrcs(byte[] png)
    {
        for (int at = 8; at + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12) return;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + (int)length), Crc32.Compute(png.AsSpan(at + 4, 4 + (int)length)));
            at += 12 + (int)length;
        }
    }

    /// <summary>The IHDR data and the inflated image data of a PNG.</summary>
    private static (byte[] Ihdr, byte[] Raw) SplitPng(byte[] png) => (png.AsSpan(16, 13).ToArray(), ImageFixtures.InflatedImageData(png));

    private static byte[] BuildPng(byte[] ihdr, byte[] raw)
    {
        var output = new MemoryStream();
        output.Write(PngChunkReader.Signature);
        PngChunkReader.Write(output, "IHDR", ihdr);
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(raw);
        PngChunkReader.Write(output, "IDAT", compressed.ToArray());
        PngChunkReader.Write(output, "IEND", []);
        return output.ToArray();
    }

    private static int FindMarker(byte[] jpeg, int marker)
    {
        for (int i = 0; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
        throw new InvalidOperationException($"marker FF {marker:X2} not found");
    }
}
