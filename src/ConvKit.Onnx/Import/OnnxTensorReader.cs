using System.Buffers.Binary;
using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>
/// Converts a <c>TensorProto</c> into an <see cref="OnnxValue"/> after checking it: dims non-negative, the element
/// count bounded, and the stored data (raw_data or the typed field) exactly as long as dims say. Nothing is
/// allocated beyond what the file itself holds.
/// </summary>
internal static class OnnxTensorReader
{
    /// <summary>Largest element count of one tensor (ConvKit tensors are int-indexed).</summary>
    public const long MaxElements = int.MaxValue / 2;

    public static OnnxValue Read(TensorProto t, string where)
    {
        string name = t.HasName ? t.Name : "(unnamed)";
        string ctx = $"{where} tensor '{name}'";
        if (t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new OnnxFormatException($"{ctx}: external data is not supported (expected the data inside the model file)");
        if (t.Dims.Count > 8) throw new OnnxFormatException($"{ctx}: expected at most 8 dims, got {t.Dims.Count}");
        var shape = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > MaxElements) throw new OnnxFormatException($"{ctx}: dim {i} must be in [0, {MaxElements}], got {d}");
            count *= d;
            if (count > MaxElements) throw new OnnxFormatException($"{ctx}: dims [{string.Join(", ", t.Dims)}] hold more than {MaxElements} elements");
            shape[i] = (int)d;
        }
        int n = (int)count;
        var type = (TensorProto.Types.DataType)t.DataType;
        bool raw = t.HasRawData;
        return type switch
        {
            TensorProto.Types.DataType.Float => OnnxValue.Of(Tensor.FromArray(raw ? Raw(t.RawData, n, 4, ctx, s => BinaryPrimitives.ReadSingleLittleEndian(s)) : Typed(t.FloatData, n, "float_data", ctx), shape)),
            TensorProto.Types.DataType.Double => OnnxValue.Of(Tensor.FromArray(raw ? Raw(t.RawData, n, 8, ctx, s => (float)BinaryPrimitives.ReadDoubleLittleEndian(s)) : Typed(t.DoubleData, n, "double_data", ctx).Select(v => (float)v).ToArray(), shape)),
            TensorProto.Types.DataType.Float16 => OnnxValue.Of(Tensor.FromArray(raw ? Raw(t.RawData, n, 2, ctx, s => (float)BinaryPrimitives.ReadHalfLittleEndian(s)) : Typed(t.Int32Data, n, "int32_data", ctx).Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(), shape)),
            TensorProto.Types.DataType.Int64 => OnnxValue.Of(raw ? Raw(t.RawData, n, 8, ctx, s => BinaryPrimitives.ReadInt64LittleEndian(s)) : Typed(t.Int64Data, n, "int64_data", ctx), shape),
            TensorProto.Types.DataType.Int32 => OnnxValue.Of(raw ? Raw(t.RawData, n, 4, ctx, s => (long)BinaryPrimitives.ReadInt32LittleEndian(s)) : Typed(t.Int32Data, n, "int32_data", ctx).Select(v => (long)v).ToArray(), shape),
            TensorProto.Types.DataType.Int8 => OnnxValue.Of(raw ? Raw(t.RawData, n, 1, ctx, s => (long)(sbyte)s[0]) : Typed(t.Int32Data, n, "int32_data", ctx).Select(v => (long)v).ToArray(), shape),
            TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool =>
                OnnxValue.Of(raw ? Raw(t.RawData, n, 1, ctx, s => (long)s[0]) : Typed(t.Int32Data, n, "int32_data", ctx).Select(v => (long)v).ToArray(), shape),
            _ => throw new OnnxFormatException($"{ctx}: data_type {t.DataType} ({type}) is not supported; expected FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8 or BOOL"),
        };
    }

    private static T[] Raw<T>(ByteString bytes, int n, int size, string ctx, Func<ReadOnlySpan<byte>, T> read)
    {
        if ((long)n * size != bytes.Length)
            throw new OnnxFormatException($"{ctx}: raw_data holds {bytes.Length} bytes, expected {n} elements × {size} bytes = {(long)n * size}");
        var span = bytes.Span;
        var r = new T[n];
        for (int i = 0; i < n; i++) r[i] = read(span.Slice(i * size, size));
        return r;
    }

    private static T[] Typed<T>(Google.Protobuf.Collections.RepeatedField<T> field, int n, string fieldName, string ctx)
    {
        if (field.Count != n) throw new OnnxFormatException($"{ctx}: {fieldName} holds {field.Count} values, expected {n} from dims");
        return field.ToArray();
    }
}
