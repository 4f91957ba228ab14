using System.Buffers.Binary;
using System.IO.Compression;
using ConvKit.Data;

namespace ConvKit.Tests.Data;

/// <summary>Builds IDX files byte by byte for the reader tests, and a temp directory to put them in.</summary>
internal static class IdxBytes
{
    /// <summary>Magic 00 00 type rank, big-endian dims, then the data.</summary>
    public static byte[] Make(byte type, uint[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Images(int n, int rows, int cols, Func<int, byte> pixel) =>
        Make(0x08, [(uint)n, (uint)rows, (uint)cols], Enumerable.Range(0, n * rows * cols).Select(pixel).ToArray());

    public static byte[] Labels(params byte[] labels) => Make(0x08, [(uint)labels.Length], labels);

    public static byte[] Gzip(byte[] raw)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(raw);
        return output.ToArray();
    }

    public static IdxFile Parse(byte[] file, long maxDataBytes = Idx.DefaultMaxDataBytes) =>
        Idx.Read(new MemoryStream(file), "test.idx", maxDataBytes);
}

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("convkit-data-").FullName;

    public string Write(string name, byte[] bytes)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, bytes);
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
