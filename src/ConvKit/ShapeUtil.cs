namespace ConvKit;

/// <summary>Shape arithmetic shared by tensors, ops and error messages.</summary>
internal static class ShapeUtil
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension {s} in shape {Format(shape)}");
            n *= s;
            if (n > int.MaxValue) throw new ArgumentException($"shape {Format(shape)} has more than {int.MaxValue} elements");
        }
        return (int)n;
    }

    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Wraps a possibly negative dimension index, as PyTorch's <c>maybe_wrap_dim</c>.</summary>
    public static int WrapDim(int dim, int rank, string op)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r)
            throw new ArgumentException($"{op}: Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim})");
        return dim < 0 ? dim + r : dim;
    }

    /// <summary>The broadcast shape of two shapes, following NumPy/PyTorch rules.</summary>
    public static int[] Broadcast(IReadOnlyList<int> a, IReadOnlyList<int> b, string op)
    {
        int n = Math.Max(a.Count, b.Count);
        var r = new int[n];
        for (int i = 0; i < n; i++)
        {
            int da = i < n - a.Count ? 1 : a[i - (n - a.Count)];
            int db = i < n - b.Count ? 1 : b[i - (n - b.Count)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{op}: The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i}; shapes {Format(a)} and {Format(b)}");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    public static bool SameShape(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>Sorted, wrapped, de-duplicated reduction dims; null or empty means all dims.</summary>
    public static int[] ReductionDims(int[]? dims, int rank, string op)
    {
        if (dims == null || dims.Length == 0) return Enumerable.Range(0, rank).ToArray();
        var wrapped = dims.Select(d => WrapDim(d, rank, op)).ToArray();
        Array.Sort(wrapped);
        for (int i = 1; i < wrapped.Length; i++)
            if (wrapped[i] == wrapped[i - 1])
                throw new ArgumentException($"{op}: dim {wrapped[i]} appears multiple times in the list of dims");
        return rank == 0 ? Array.Empty<int>() : wrapped;
    }
}
