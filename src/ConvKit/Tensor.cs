namespace ConvKit;

/// <summary>
/// An n-dimensional float32 tensor, row-major, with PyTorch's view semantics: views
/// (<see cref="View"/>, <see cref="Permute"/>, <see cref="Narrow"/>, ...) share storage with their base
/// and carry their own sizes, strides and offset. Kernels see contiguous data through <see cref="Contiguous"/>.
/// </summary>
public partial class Tensor
{
    internal readonly float[] Storage;
    internal readonly int Offset;
    internal readonly int[] Sizes;
    internal readonly int[] Strides;
    private readonly IReadOnlyList<int> _shape;

    internal Tensor(float[] storage, int offset, int[] sizes, int[] strides)
    {
        Storage = storage;
        Offset = offset;
        Sizes = sizes;
        Strides = strides;
        Numel = ShapeUtil.Numel(sizes);
        _shape = Array.AsReadOnly(sizes);
    }

    /// <summary>Wraps <paramref name="data"/> (not copied) as a contiguous tensor.</summary>
    internal Tensor(float[] data, int[] shape) : this(data, 0, shape, ShapeUtil.ContiguousStrides(shape))
    {
        if (data.Length < Numel)
            throw new ArgumentException($"data of length {data.Length} is too short for shape {ShapeUtil.Format(shape)}");
    }

    /// <summary>The sizes of the dimensions, e.g. [N, C, H, W].</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions (<c>tensor.dim()</c>).</summary>
    public int Dim => Sizes.Length;

    /// <summary>Number of elements (<c>tensor.numel()</c>).</summary>
    public int Numel { get; }

    /// <summary>The size of one dimension; negative indices count from the end.</summary>
    public int Size(int dim) => Sizes[ShapeUtil.WrapDim(dim, Dim, "size")];

    /// <summary>The strides of the dimensions in elements (<c>tensor.stride()</c>).</summary>
    public IReadOnlyList<int> Stride => Array.AsReadOnly(Strides);

    public bool IsContiguous
    {
        get
        {
            int expected = 1;
            for (int i = Sizes.Length - 1; i >= 0; i--)
            {
                if (Sizes[i] == 1) continue;
                if (Strides[i] != expected) return Numel == 0;
                expected *= Sizes[i];
            }
            return true;
        }
    }

    /// <summary>The elements of a contiguous tensor, in place. Callers make sure the tensor is contiguous.</summary>
    internal Span<float> Span
    {
        get
        {
            if (!IsContiguous) throw new InvalidOperationException("internal: Span of a non-contiguous tensor");
            return Storage.AsSpan(Offset, Numel);
        }
    }

    /// <summary>An uninitialised tensor: ops overwrite every element, so the zeroing of new float[] is skipped.</summary>
    internal static Tensor Empty(params int[] shape) => new(TensorScope.Allocate<float>(ShapeUtil.Numel(shape), zero: false), (int[])shape.Clone());

    // ---------------------------------------------------------------- creation

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape (<c>torch.tensor(data).reshape(shape)</c>).</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Length == 0 && data.Length != 1) shape = [data.Length];
        int n = ShapeUtil.Numel(shape);
        if (n != data.Length)
            throw new ArgumentException($"FromArray: shape {ShapeUtil.Format(shape)} is invalid for input of size {data.Length}");
        var t = Empty(shape);
        data.CopyTo(t.Storage, 0);
        return t;
    }

    /// <summary>A 0-dimensional tensor holding one value (<c>torch.tensor(v)</c>).</summary>
    public static Tensor Scalar(float value) => new([value], Array.Empty<int>());

    public static Tensor Zeros(params int[] shape) => new(TensorScope.Allocate<float>(ShapeUtil.Numel(shape), zero: true), (int[])shape.Clone());

    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    public static Tensor Full(int[] shape, float value)
    {
        var t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Sizes);
    public static Tensor OnesLike(Tensor t) => Full(t.Sizes, 1f);

    /// <summary>Values start, start+step, ... below end (<c>torch.arange</c>), as a 1-D tensor.</summary>
    public static Tensor Arange(float end) => Arange(0, end, 1);

    public static Tensor Arange(float start, float end, float step = 1)
    {
        if (step == 0) throw new ArgumentException("Arange: step must be nonzero");
        if ((end - start) / step < 0)
            throw new ArgumentException($"Arange: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})");
        int n = (int)Math.Ceiling((end - (double)start) / step);
        var t = Empty(n);
        var s = t.Span;
        for (int i = 0; i < n; i++) s[i] = (float)(start + (double)i * step);
        return t;
    }

    /// <summary>Uniform samples in [0, 1) (<c>torch.rand(shape, generator=g)</c>); same stream as PyTorch for the same seed.</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null)
    {
        var t = Empty(shape);
        (generator ?? Generator.Current).FillUniform(t.Span);
        return t;
    }

    /// <summary>Standard-normal samples (<c>torch.randn(shape, generator=g)</c>); same stream as PyTorch for the same seed.</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null)
    {
        var t = Empty(shape);
        (generator ?? Generator.Current).FillNormal(t.Span);
        return t;
    }

    public static Tensor Rand(params int[] shape) => Rand(shape, null);
    public static Tensor Randn(params int[] shape) => Randn(shape, null);

    // ---------------------------------------------------------------- reading out

    /// <summary>The elements in row-major order, copied.</summary>
    public float[] ToArray()
    {
        if (IsContiguous) return Span.ToArray();
        return Contiguous().Span.ToArray();
    }

    /// <summary>The value of a one-element tensor (<c>tensor.item()</c>).</summary>
    public float Item()
    {
        if (Numel != 1)
            throw new ArgumentException($"Item: a Tensor with {Numel} elements cannot be converted to Scalar");
        return Storage[Offset];
    }

    /// <summary>One element by full index; negative indices count from the end.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => Storage[ElementOffset(index)];
        set => Storage[ElementOffset(index)] = value;
    }

    private int ElementOffset(int[] index)
    {
        if (index.Length != Dim)
            throw new ArgumentException($"index of {index.Length} dims given for a tensor of shape {ShapeUtil.Format(Sizes)}");
        int off = Offset;
        for (int d = 0; d < Dim; d++)
        {
            int i = index[d];
            if (i < -Sizes[d] || i >= Sizes[d])
                throw new ArgumentException($"index {i} is out of bounds for dimension {d} with size {Sizes[d]}");
            off += (i < 0 ? i + Sizes[d] : i) * Strides[d];
        }
        return off;
    }

    public override string ToString() => TensorFormatter.Format(this);
}
