using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ConvKit.Serialization;

/// <summary>
/// An open safetensors file (the format of Hugging Face's <c>safetensors</c>): an 8-byte little-endian header
/// length, a JSON header, then the raw tensor data. The header is read and validated in full before any tensor
/// data is touched; each tensor is then read once, on request, straight from its byte range (F32 into the result,
/// other types through a 1 MB conversion buffer), so a large file is never loaded twice or held in memory as a whole.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private const int ChunkBytes = 1 << 20;
    private readonly FileStream _stream;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(FileStream stream, string path, long dataStart, List<SafeTensorInfo> entries, Dictionary<string, string> metadata)
    {
        _stream = stream;
        Path = path;
        _dataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
        _byName = entries.ToDictionary(e => e.Name);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The tensors, in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Entries { get; }

    /// <summary>The header's <c>__metadata__</c> (string to string; empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafeTensorsException"/> for a malformed file.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            long length = stream.Length;
            if (length < 8) throw new SafeTensorsException($"{path}: expected at least the 8-byte header length, got a file of {length} bytes");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(stream, 0, prefix, path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)SafeTensorsHeader.MaxHeaderBytes || headerLength > (ulong)(length - 8))
                throw new SafeTensorsException(
                    $"{path}: header length {headerLength} exceeds {(headerLength > (ulong)(length - 8) ? $"the {length - 8} bytes that follow it" : $"the format's limit of {SafeTensorsHeader.MaxHeaderBytes} bytes")}");
            var header = new byte[(int)headerLength];
            ReadExactly(stream, 8, header, path);
            long dataStart = 8 + (long)headerLength;
            var (entries, metadata) = SafeTensorsHeader.Parse(header, length - dataStart, path);
            return new SafeTensorsFile(stream, path, dataStart, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>; throws KeyNotFoundException naming the file when absent.</summary>
    public SafeTensorInfo this[string name] => _byName.TryGetValue(name, out var e) ? e
        : throw new KeyNotFoundException($"{Path}: no tensor named '{name}' (the file has {Entries.Count} tensors)");

    /// <summary>Reads tensor <paramref name="name"/> as float32 (converting every other dtype; integers above 2^24 round).</summary>
    public Tensor ReadTensor(string name)
    {
        var e = this[name];
        var data = GC.AllocateUninitializedArray<float>(e.Numel);
        if (e.DType == SafeTensorsDType.F32 && BitConverter.IsLittleEndian)
            ReadExactly(_stream, _dataStart + e.Begin, MemoryMarshal.AsBytes(data.AsSpan()), Path);
        else
            ReadConverted(e, data, (src, dst, _) => SafeTensorsDTypes.ToFloat(e.DType, src, dst));
        return new Tensor(data, (int[])e.Shape.Clone());
    }

    /// <summary>Reads tensor <paramref name="name"/> as int64 (the integer types and BOOL; floating types must hold whole numbers).</summary>
    public LongTensor ReadLongTensor(string name)
    {
        var e = this[name];
        var data = new long[e.Numel];
        if (e.DType == SafeTensorsDType.I64 && BitConverter.IsLittleEndian)
            ReadExactly(_stream, _dataStart + e.Begin, MemoryMarshal.AsBytes(data.AsSpan()), Path);
        else
            ReadConverted(e, data, (src, dst, first) => SafeTensorsDTypes.ToLong(e.DType, src, dst, first, () => $"{Path}: tensor '{name}'"));
        return new LongTensor(data, (int[])e.Shape.Clone());
    }

    /// <summary>Reads every tensor as float32, in header order.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> ReadAll() => Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, ReadTensor(e.Name)));

    private delegate void Converter<T>(ReadOnlySpan<byte> src, Span<T> dst, int first);

    /// <summary>Streams the tensor's bytes through a bounded buffer, converting each chunk into <paramref name="into"/>.</summary>
    private void ReadConverted<T>(SafeTensorInfo e, T[] into, Converter<T> convert)
    {
        int size = e.DType.Size(), perChunk = ChunkBytes / size;
        var buffer = new byte[Math.Min(ChunkBytes, e.End - e.Begin)];
        for (int first = 0; first < into.Length; first += perChunk)
        {
            int n = Math.Min(perChunk, into.Length - first);
            ReadExactly(_stream, _dataStart + e.Begin + (long)first * size, buffer.AsSpan(0, n * size), Path);
            convert(buffer.AsSpan(0, n * size), into.AsSpan(first, n), first);
        }
    }

    private static void ReadExactly(FileStream stream, long offset, Span<byte> into, string path)
    {
        int done = 0;
        while (done < into.Length)
        {
            int n = RandomAccess.Read(stream.SafeFileHandle, into[done..], offset + done);
            if (n == 0) throw new SafeTensorsException($"{path}: expected {into.Length} bytes at offset {offset}, the file ends after {done}");
            done += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
