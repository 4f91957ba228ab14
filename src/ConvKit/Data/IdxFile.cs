using System.Numerics.Tensors;

namespace ConvKit.Data;

/// <summary>The element type byte of an IDX header (the third magic byte).</summary>
public enum IdxElementType : byte
{
    UInt8 = 0x08,
    Int8 = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Float32 = 0x0D,
    Float64 = 0x0E,
}

/// <summary>
/// The raw content of an IDX file (the MNIST format): element type, dimensions and the data bytes as
/// stored (big-endian for multi-byte types). <see cref="Idx.Read(string, long)"/> has checked that
/// <see cref="Data"/> holds exactly the product of <see cref="Dims"/> elements.
/// </summary>
public sealed class IdxFile
{
    internal IdxFile(string source, IdxElementType elementType, int[] dims, byte[] data)
    {
        Source = source;
        ElementType = elementType;
        Dims = Array.AsReadOnly(dims);
        Data = data;
    }

    /// <summary>Where the data came from (a path), for messages.</summary>
    public string Source { get; }

    public IdxElementType ElementType { get; }

    /// <summary>The dimensions, outermost first, each &gt; 0.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <summary>The data bytes, row-major, exactly as in the file.</summary>
    public byte[] Data { get; }

    /// <summary>The 32-bit magic number: 0x0000 | type | number of dimensions (0x00000803 for MNIST images).</summary>
    public uint Magic => ((uint)ElementType << 8) | (uint)Dims.Count;

    /// <summary>Size in bytes of one element of <paramref name="type"/>, or 0 for a byte that names no IDX type.</summary>
    public static int ElementSize(IdxElementType type) => type switch
    {
        IdxElementType.UInt8 or IdxElementType.Int8 => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => 0,
    };

    /// <summary>
    /// Images [N, 1, rows, cols] with values byte / 255 in [0, 1] (the same float32 values as NumPy's
    /// <c>astype(np.float32) / 255</c>); requires magic 0x00000803 (uint8, dims [N, rows, cols]).
    /// </summary>
    public Tensor ToImages()
    {
        Require(0x00000803, "uint8 images [N, rows, cols]");
        var pixels = GC.AllocateUninitializedArray<float>(Data.Length);
        TensorPrimitives.ConvertChecked<byte, float>(Data, pixels);
        TensorPrimitives.Divide(pixels, 255f, pixels);
        return new Tensor(pixels, [Dims[0], 1, Dims[1], Dims[2]]);
    }

    /// <summary>Labels [N] as int64; requires magic 0x00000801 (uint8, dims [N]).</summary>
    public LongTensor ToLabels()
    {
        Require(0x00000801, "uint8 labels [N]");
        var labels = new long[Data.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = Data[i];
        return new LongTensor(labels, [Data.Length]);
    }

    private void Require(uint magic, string what)
    {
        if (Magic != magic)
            throw new DataFormatException(
                $"{Source}: expected IDX magic 0x{magic:X8} ({what}), got 0x{Magic:X8} ({Describe(ElementType)}, {Dims.Count} dimension{(Dims.Count == 1 ? "" : "s")} {ShapeUtil.Format(Dims)})");
    }

    internal static string Describe(IdxElementType type) => ElementSize(type) == 0 ? $"type 0x{(byte)type:X2}" : type.ToString().ToLowerInvariant();
}
