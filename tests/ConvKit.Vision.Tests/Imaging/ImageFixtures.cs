using System.Buffers.Binary;
using System.IO.Compression;

namespace ConvKit.Vision.Tests.Imaging;

/// <summary>The image fixtures of tools/golden/gen_images.py: files plus the pixels PIL decodes from them.</summary>
internal static class ImageFixtures
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");

    public static string PathOf(string file) => Path.Combine(Folder, file);

    public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    /// <summary>One manifest line: file, expected-pixels file, PIL mode (P = palette indices), width, height, channels.</summary>
    public sealed record Case(string File, string Expected, string Mode, int Width, int Height, int Channels)
    {
        public override string ToString() => $"{File} as {Mode}";

        public byte[] ExpectedPixels()
        {
            using var gzip = new GZipStream(System.IO.File.OpenRead(PathOf(Expected)), CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gzip.CopyTo(memory);
            return memory.ToArray();
        }
    }

    public static IEnumerable<Case> Cases() =>
        File.ReadAllLines(PathOf("manifest.txt")).Where(l => l.Length > 0).Select(l => l.Split(' ')).Select(f =>
            new Case(f[0], f[1], f[2], int.Parse(f[3]), int.Parse(f[4]), int.Parse(f[5])));

    public static IEnumerable<string> Unsupported() => File.ReadAllLines(PathOf("unsupported.txt")).Where(l => l.Length > 0);

    /// <summary>The inflated image data of a PNG: its IDAT chunks joined and decompressed.</summary>
    public static byte[] InflatedImageData(byte[] png)
    {
        var compressed = new MemoryStream();
        for (int at = 8; at + 12 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (png.AsSpan(at + 4, 4).SequenceEqual("IDAT"u8)) compressed.Write(png, at + 8, length);
            at += 12 + length;
        }
        compressed.Position = 0;
        using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
        var raw = new MemoryStream();
        zlib.CopyTo(raw);
        return raw.ToArray();
    }
}
