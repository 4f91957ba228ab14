using System.Buffers.Binary;

namespace ConvKit.Serialization;

/// <summary>
/// Element types of the safetensors format that ConvKit reads (its JSON spellings: "F32", "F16", ...). Every one
/// converts to float32 (<see cref="SafeTensorsFile.ReadTensor"/>); the integer types and BOOL also to int64.
/// F8_E4M3 is the "fn" variant PyTorch's <c>float8_e4m3fn</c> stores (no infinities, S.1111.111 is NaN).
/// </summary>
public enum SafeTensorsDType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    U8,
    I8,
    I16,
    U16,
    U32,
    U64,
    BOOL,
    F8_E4M3,
    F8_E5M2,
}

internal static class SafeTensorsDTypes
{
    public static int Size(this SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 or SafeTensorsDType.U32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 or SafeTensorsDType.U16 => 2,
        _ => 1,
    };

    public static bool IsInteger(this SafeTensorsDType t) => t is SafeTensorsDType.I64 or SafeTensorsDType.I32 or SafeTensorsDType.U8
        or SafeTensorsDType.I8 or SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.U32 or SafeTensorsDType.U64 or SafeTensorsDType.BOOL;

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
                SafeTensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]),
                SafeTensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]),
                SafeTensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16),
                SafeTensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]),
                SafeTensorsDType.F8_E5M2 => (float)BitConverter.UInt16BitsToHalf((ushort)(src[i] << 8)),
                SafeTensorsDType.F8_E4M3 => E4M3ToFloat(src[i]),
                SafeTensorsDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]),
                _ => ReadInteger(t, src, i),
            };
    }

    /// <summary>
    /// Converts little-endian integer (or BOOL) elements to int64; floating types must hold whole numbers.
    /// <paramref name="first"/> is the index of dst[0] within the tensor, for the error message.
    /// </summary>
    public static void ToLong(SafeTensorsDType t, ReadOnlySpan<byte> src, Span<long> dst, int first, Func<string> where)
    {
        if (t.IsInteger())
        {
            for (int i = 0; i < dst.Length; i++)
            {
                if (t == SafeTensorsDType.U64 && BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]) > long.MaxValue)
                    throw new SafeTensorsException($"{where()}: expected U64 values up to {long.MaxValue}, got {BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..])} at element {first + i}");
                dst[i] = ReadInteger(t, src, i);
            }
            return;
        }
        var f = new float[dst.Length];
        ToFloat(t, src, f);
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] != MathF.Round(f[i]) || !float.IsFinite(f[i]))
                throw new SafeTensorsException($"{where()}: expected whole numbers for an integer tensor, got {f[i]} at element {first + i}");
            dst[i] = (long)f[i];
        }
    }

    private static long ReadInteger(SafeTensorsDType t, ReadOnlySpan<byte> s, int i) => t switch
    {
        SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]),
        SafeTensorsDType.U64 => (long)BinaryPrimitives.ReadUInt64LittleEndian(s[(8 * i)..]),
        SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]),
        SafeTensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]),
        SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(s[(2 * i)..]),
        SafeTensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]),
        SafeTensorsDType.I8 => (sbyte)s[i],
        SafeTensorsDType.BOOL => s[i] != 0 ? 1 : 0,
        _ => s[i],
    };

    /// <summary>float8 e4m3fn: exponent bias 7, subnormals below, S.1111.111 is NaN and there is no infinity.</summary>
    private static float E4M3ToFloat(byte b)
    {
        int exponent = (b >> 3) & 0xF, mantissa = b & 7;
        float sign = (b & 0x80) != 0 ? -1f : 1f;
        if (exponent == 15 && mantissa == 7) return float.NaN;
        return sign * (exponent == 0 ? mantissa / 8f * MathF.ScaleB(1f, -6) : (1 + mantissa / 8f) * MathF.ScaleB(1f, exponent - 7));
    }
}
