namespace ConvKit;

/// <summary>
/// An int64 tensor, ConvKit's <c>torch.long</c>: class targets for cross-entropy, results of
/// <see cref="Tensor.Argmax"/> and pooling indices. Contiguous, row-major, no autograd.
/// </summary>
public sealed class LongTensor
{
    private readonly long[] _data;
    private readonly int[] _shape;

    /// <summary>The storage (contiguous, exactly the elements).</summary>
    internal long[] Data => _data;

    internal LongTensor(long[] data, int[] shape)
    {
        _data = data;
        _shape = shape;
    }

    /// <summary>Copies <paramref name="data"/> into a new int64 tensor of the given shape.</summary>
    public static LongTensor FromArray(long[] data, params int[] shape)
    {
        if (shape.Length == 0 && data.Length != 1) shape = [data.Length];
        if (ShapeUtil.Numel(shape) != data.Length)
            throw new ArgumentException($"LongTensor.FromArray: shape {ShapeUtil.Format(shape)} is invalid for input of size {data.Length}");
        return new LongTensor((long[])data.Clone(), (int[])shape.Clone());
    }

    public static LongTensor FromArray(int[] data, params int[] shape) => FromArray(data.Select(v => (long)v).ToArray(), shape);

    public IReadOnlyList<int> Shape => Array.AsReadOnly(_shape);
    public int Dim => _shape.Length;
    public int Numel => _data.Length;
    internal ReadOnlySpan<long> Span => _data;

    public long[] ToArray() => (long[])_data.Clone();

    public long Item() => Numel == 1 ? _data[0]
        : throw new ArgumentException($"Item: a Tensor with {Numel} elements cannot be converted to Scalar");

    [System.Runtime.CompilerServices.IndexerName("At")]
    public long this[params int[] index]
    {
        get
        {
            if (index.Length != _shape.Length)
                throw new ArgumentException($"index of {index.Length} dims given for a tensor of shape {ShapeUtil.Format(_shape)}");
            int off = 0;
            for (int d = 0; d < index.Length; d++)
            {
                int i = index[d] < 0 ? index[d] + _shape[d] : index[d];
                if (i < 0 || i >= _shape[d])
                    throw new ArgumentException($"index {index[d]} is out of bounds for dimension {d} with size {_shape[d]}");
                off = off * _shape[d] + i;
            }
            return _data[off];
        }
    }

    public LongTensor Reshape(params int[] shape)
    {
        var s = Tensor.InferShape(shape, Numel, "LongTensor.Reshape");
        return new LongTensor(_data, s);
    }

    /// <summary>Converts to float32 (<c>tensor.float()</c>).</summary>
    public Tensor ToFloat() => Tensor.FromArray(_data.Select(v => (float)v).ToArray(), _shape);

    /// <summary>Number of positions where both tensors hold the same value (for accuracy counts).</summary>
    public int CountEqual(LongTensor other)
    {
        if (!ShapeUtil.SameShape(_shape, other._shape))
            throw new ArgumentException($"CountEqual: shapes {ShapeUtil.Format(_shape)} and {ShapeUtil.Format(other._shape)} differ");
        int n = 0;
        for (int i = 0; i < _data.Length; i++) if (_data[i] == other._data[i]) n++;
        return n;
    }

    public override string ToString() => TensorFormatter.Format(_data.Select(v => (double)v).ToArray(), _shape, integral: true, suffix: ", dtype=torch.int64");
}
