namespace ConvKit.Serialization;

/// <summary>Element types of the safetensors format that ConvKit reads (its JSON spellings: "F32", "F16", ...).</summary>
public enum SafeTensorsDType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    U8,
}

internal static class SafeTensorsDTypes
{
    public static int Size(this SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        _ => 1,
    };

    public static bool TryParse(string? s, out SafeTensorsDType t)
    {
        foreach (var v in Enum.GetValues<SafeTensorsDType>())
            if (v.ToString() == s) { t = v; return true; }
        t = default;
        return false;
    }

    /// <summary>Converts little-endian elements of type <paramref name="t"/> to float32.</summary>
    public static void ToFloat(SafeTensorsDType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (t == SafeTensorsDType.F32 && BitConverter.IsLittleEndian)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src[..(4 * dst.Length)]).CopyTo(dst);
            return;
        }
        for (int i = 0; i < dst.Length; i++)
            dst[i] = t switch
            {
                SafeTensorsDType.F32 => BitConverter.Int32BitsToSingle(ReadI32(src, i)),
                SafeTensorsDType.F16 => (float)BitConverter.UInt16BitsToHalf(ReadU16(src, i)),
                SafeTensorsDType.BF16 => BitConverter.Int32BitsToSingle(ReadU16(src, i) << 16),
                SafeTensorsDType.F64 => (float)BitConverter.Int64BitsToDouble(ReadI64(src, i)),
                SafeTensorsDType.I64 => ReadI64(src, i),
                SafeTensorsDType.I32 => ReadI32(src, i),
                _ => src[i],
            };
    }

    /// <summary>Converts little-endian integer elements to int64; floating types must hold whole numbers.</summary>
    public static void ToLong(SafeTensorsDType t, ReadOnlySpan<byte> src, Span<long> dst, Func<string> where)
    {
        if (t is SafeTensorsDType.I64 or SafeTensorsDType.I32 or SafeTensorsDType.U8)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = t switch { SafeTensorsDType.I64 => ReadI64(src, i), SafeTensorsDType.I32 => ReadI32(src, i), _ => src[i] };
            return;
        }
        var f = new float[dst.Length];
        ToFloat(t, src, f);
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] != MathF.Round(f[i]) || !float.IsFinite(f[i]))
                throw new SafeTensorsException($"{where()}: expected whole numbers for an integer tensor, got {f[i]} at element {i}");
            dst[i] = (long)f[i];
        }
    }

    private static ushort ReadU16(ReadOnlySpan<byte> s, int i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]);
    private static int ReadI32(ReadOnlySpan<byte> s, int i) => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]);
    private static long ReadI64(ReadOnlySpan<byte> s, int i) => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]);
}
