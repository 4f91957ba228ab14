using System.Numerics.Tensors;

namespace ConvKit;

public partial class Tensor
{
    /// <summary>
    /// Moves the reduced dims last and returns contiguous rows of length R = product of reduced sizes,
    /// plus the output shape with or without the kept singleton dims.
    /// </summary>
    private (float[] Rows, int RowLength, int Count, int[] OutShape, int[] KeepShape) ReductionRows(int[]? dims, bool keepDim, string op)
    {
        var red = ShapeUtil.ReductionDims(dims, Dim, op);
        var kept = Enumerable.Range(0, Dim).Where(d => !red.Contains(d)).ToArray();
        var perm = kept.Concat(red).ToArray();
        var rows = Dim == 0 ? this.Contiguous() : Permute(perm).Contiguous();
        int r = 1;
        foreach (var d in red) r *= Sizes[d];
        var keepShape = Sizes.Select((s, d) => red.Contains(d) ? 1 : s).ToArray();
        var outShape = keepDim ? keepShape : kept.Select(d => Sizes[d]).ToArray();
        int count = r == 0 ? ShapeUtil.Numel(kept.Select(d => Sizes[d]).ToArray()) : Numel / r;
        var data = rows.IsContiguous && rows.Offset == 0 && rows.Storage.Length == rows.Numel ? rows.Storage : rows.ToArray();
        return (data, r, count, outShape, keepShape);
    }

    private Tensor ReduceRows(int[]? dims, bool keepDim, string op, Func<ReadOnlySpan<float>, float> reduce, out int[] keepShape, out int rowLength)
    {
        var (rows, r, count, outShape, ks) = ReductionRows(dims, keepDim, op);
        var result = Empty(outShape);
        var d = result.Span;
        for (int i = 0; i < count; i++) d[i] = reduce(rows.AsSpan(i * r, r));
        keepShape = ks;
        rowLength = r;
        return result;
    }

    /// <summary>Sum over <paramref name="dims"/> (all when null) (<c>torch.sum</c>).</summary>
    public Tensor Sum(int[]? dims = null, bool keepDim = false)
    {
        var input = this;
        var (r, keepShape, _) = SumStrided(dims, keepDim, "sum");
        return Autograd.Record(r, input, g => g.Reshape(keepShape).Expand(input.Sizes.ToArray()).Contiguous());
    }

    /// <summary>
    /// Sums by walking the input once with output strides of 0 on reduced dims: a reduced innermost run adds its
    /// TensorPrimitives sum to one output, a kept one adds element-wise into an output row. No permuted copy.
    /// </summary>
    private (Tensor Result, int[] KeepShape, int Count) SumStrided(int[]? dims, bool keepDim, string op)
    {
        var red = ShapeUtil.ReductionDims(dims, Dim, op);
        var keepShape = Sizes.Select((s, d) => red.Contains(d) ? 1 : s).ToArray();
        var outStrides = ShapeUtil.ContiguousStrides(keepShape);
        for (int d = 0; d < Dim; d++) if (red.Contains(d)) outStrides[d] = 0;
        var acc = Zeros(keepShape);
        float[] src = Storage, dst = acc.Storage;
        if (IsContiguous && Dim >= 3 && red.Length == Dim - 1 && !red.Contains(1) && Numel >= ParallelSumMin && ParallelSums)
        {
            // Per channel over [N, C, …] (a conv's bias gradient, a batch mean): channels in parallel, each adding its
            // planes' sums in image order, the same additions in the same order as the serial walk below.
            int images = Sizes[0], channels = Sizes[1], plane = Numel / (images * channels), start = Offset;
            Parallelism.For(channels, c =>
            {
                float s = 0f;
                for (int i = 0; i < images; i++) s += TensorPrimitives.Sum(src.AsSpan(start + (i * channels + c) * plane, plane));
                dst[c] = s;
            });
        }
        else if (IsContiguous && red.Length > 0 && red.Length < Dim && red.Min() == Dim - red.Length && Numel >= ParallelSumMin && ParallelSums)
        {
            // Over trailing dims (a mean per plane: the squeeze of SE blocks, global average pooling): one output per
            // row, rows in parallel. 0 + the row's sum, as the serial walk adds it into a zeroed output (so −0 sums give +0).
            int rowLength = 1, start = Offset;
            foreach (var d in red) rowLength *= Sizes[d];
            Parallelism.RowRanges(Numel / rowLength, rowLength, (r0, n) =>
            {
                for (int r = r0; r < r0 + n; r++) dst[r] = 0f + TensorPrimitives.Sum(src.AsSpan(start + r * rowLength, rowLength));
            });
        }
        else
        {
            StridedLoop.Rows(Sizes, Strides, Offset, outStrides, 0, new int[Dim], 0, (oi, oo, _, n, si, so, _) =>
            {
                if (so == 0)
                    dst[oo] += si == 1 ? TensorPrimitives.Sum(src.AsSpan(oi, n)) : StridedSum(src, oi, n, si);
                else if (si == 1 && so == 1)
                    TensorPrimitives.Add(dst.AsSpan(oo, n), src.AsSpan(oi, n), dst.AsSpan(oo, n));
                else
                    for (int i = 0; i < n; i++) dst[oo + i * so] += src[oi + i * si];
            });
        }
        int count = 1;
        foreach (var d in red) count *= Sizes[d];
        var outShape = keepDim ? keepShape : Sizes.Where((_, d) => !red.Contains(d)).ToArray();
        return (acc.Reshape(outShape).Detach(), keepShape, count);
    }

    /// <summary>False keeps the per-channel and per-row sums on the serial walk, for the tests that compare the two (they agree bit for bit). Default true.</summary>
    internal static bool ParallelSums = true;

    /// <summary>Elements from which a per-channel or per-row sum runs in parallel (below, a wake-up costs more than the sum).</summary>
    private const int ParallelSumMin = 1 << 16;

    private static float StridedSum(float[] src, int offset, int n, int stride)
    {
        float s = 0;
        for (int i = 0; i < n; i++) s += src[offset + i * stride];
        return s;
    }

    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    /// <summary>Mean over <paramref name="dims"/> (all when null) (<c>torch.mean</c>).</summary>
    public Tensor Mean(int[]? dims = null, bool keepDim = false)
    {
        var input = this;
        var (sum, keepShape, n) = SumStrided(dims, keepDim, "mean");
        var r = n == 0 ? Full(sum.Sizes, float.NaN) : sum;
        if (n != 0) TensorPrimitives.Divide(r.Span, n, r.Span);
        return Autograd.Record(r, input, g => (g / n).Reshape(keepShape).Expand(input.Sizes.ToArray()).Contiguous());
    }

    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>
    /// Variance over <paramref name="dims"/> (all when null) (<c>torch.var</c>); unbiased divides by n - 1.
    /// </summary>
    public Tensor Var(int[]? dims = null, bool unbiased = true, bool keepDim = false)
    {
        var input = this;
        int correction = unbiased ? 1 : 0;
        var r = ReduceRows(dims, keepDim, "var", s =>
        {
            if (s.Length == 0) return float.NaN;
            double mean = 0;
            foreach (var v in s) mean += v;
            mean /= s.Length;
            double ss = 0;
            foreach (var v in s) ss += (v - mean) * (v - mean);
            int denom = s.Length - correction;
            return denom <= 0 ? (ss == 0 ? float.NaN : float.PositiveInfinity) : (float)(ss / denom);
        }, out var keepShape, out int n);
        return Autograd.Record(r, input, g =>
        {
            var x = input.Detach();
            var centered = x - x.Mean(dims, keepDim: true);
            return g.Reshape(keepShape) * centered * (2f / (n - correction));
        });
    }

    public Tensor Var(int dim, bool unbiased = true, bool keepDim = false) => Var([dim], unbiased, keepDim);

    /// <summary>Maximum over dims (<c>torch.amax</c>); ties share the gradient evenly.</summary>
    public Tensor Amax(int[]? dims = null, bool keepDim = false) => Extreme(dims, keepDim, "amax", max: true);

    /// <summary>Minimum over dims (<c>torch.amin</c>); ties share the gradient evenly.</summary>
    public Tensor Amin(int[]? dims = null, bool keepDim = false) => Extreme(dims, keepDim, "amin", max: false);

    /// <summary>The largest element (<c>tensor.max()</c>), as a 0-dim tensor.</summary>
    public Tensor Max() => Extreme(null, false, "max", max: true);

    /// <summary>The smallest element (<c>tensor.min()</c>), as a 0-dim tensor.</summary>
    public Tensor Min() => Extreme(null, false, "min", max: false);

    private Tensor Extreme(int[]? dims, bool keepDim, string op, bool max)
    {
        if (Numel == 0) throw new ArgumentException($"{op}: Expected reduction dim to be specified for input.numel() == 0; got an empty tensor of shape {ShapeUtil.Format(Sizes)}");
        var input = this;
        var r = ReduceRows(dims, keepDim, op, s => max ? TensorPrimitives.Max(s) : TensorPrimitives.Min(s), out var keepShape, out _);
        return Autograd.Record(r, input, g =>
        {
            var hit = input.Detach().Eq(r.Reshape(keepShape));
            return g.Reshape(keepShape) * hit / hit.Sum(dims, keepDim: true);
        });
    }

    /// <summary>Maximum along <paramref name="dim"/> with its first index (<c>torch.max(input, dim)</c>).</summary>
    public (Tensor Values, LongTensor Indices) Max(int dim, bool keepDim = false) => ExtremeAlong(dim, keepDim, max: true);

    /// <summary>Minimum along <paramref name="dim"/> with its first index (<c>torch.min(input, dim)</c>).</summary>
    public (Tensor Values, LongTensor Indices) Min(int dim, bool keepDim = false) => ExtremeAlong(dim, keepDim, max: false);

    private (Tensor, LongTensor) ExtremeAlong(int dim, bool keepDim, bool max)
    {
        string op = max ? "max" : "min";
        if (Dim > 0 && Sizes[ShapeUtil.WrapDim(dim, Dim, op)] == 0)
            throw new ArgumentException($"{op}(): Expected reduction dim {dim} to have non-zero size.");
        var (rows, r, count, outShape, keepShape) = ReductionRows([dim], keepDim, op);
        var values = Empty(outShape);
        var idx = TensorScope.Allocate<long>(count, zero: false);
        var v = values.Span;
        for (int i = 0; i < count; i++)
        {
            var row = rows.AsSpan(i * r, r);
            int k = max ? TensorPrimitives.IndexOfMax(row) : TensorPrimitives.IndexOfMin(row);
            idx[i] = k;
            v[i] = row[k];
        }
        var input = this;
        int d = Dim == 0 ? 0 : ShapeUtil.WrapDim(dim, Dim, op);
        var indices = new LongTensor(idx, outShape);
        var recorded = Autograd.Record(values, input, g => ScatterAlong(g.Reshape(keepShape), idx, d, input.Sizes));
        return (recorded, indices);
    }

    /// <summary>Index of the largest element along <paramref name="dim"/>, or of the flattened tensor when null (<c>torch.argmax</c>).</summary>
    public LongTensor Argmax(int? dim = null, bool keepDim = false)
    {
        if (dim is int d) return ExtremeAlong(d, keepDim, max: true).Item2;
        if (Numel == 0) throw new ArgumentException("argmax(): Expected reduction dim to be specified for input.numel() == 0.");
        long k = TensorPrimitives.IndexOfMax<float>(Contiguous().Span);
        return new LongTensor([k], keepDim ? Enumerable.Repeat(1, Dim).ToArray() : Array.Empty<int>());
    }

    /// <summary>Index of the smallest element along <paramref name="dim"/>, or of the flattened tensor (<c>torch.argmin</c>).</summary>
    public LongTensor Argmin(int? dim = null, bool keepDim = false)
    {
        if (dim is int d) return ExtremeAlong(d, keepDim, max: false).Item2;
        long k = TensorPrimitives.IndexOfMin<float>(Contiguous().Span);
        return new LongTensor([k], keepDim ? Enumerable.Repeat(1, Dim).ToArray() : Array.Empty<int>());
    }

    /// <summary>Places g (keepdim shape, size 1 along dim) at the given indices along dim of a zero tensor.</summary>
    private static Tensor ScatterAlong(Tensor g, long[] idx, int dim, int[] shape)
    {
        var result = Zeros(shape);
        if (shape.Length == 0) { result.Span[0] = g.Item(); return result; }
        int inner = 1;
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        int size = shape[dim];
        var gs = g.Contiguous().Span;
        var d = result.Span;
        for (int i = 0; i < idx.Length; i++)
        {
            int outer = i / inner, j = i % inner;
            d[(outer * size + (int)idx[i]) * inner + j] += gs[i];
        }
        return result;
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (leading dims and size-1 dims).</summary>
    internal Tensor SumToShape(IReadOnlyList<int> shape)
    {
        if (ShapeUtil.SameShape(Sizes, shape)) return this;
        int lead = Dim - shape.Count;
        var dims = new List<int>();
        for (int i = 0; i < Dim; i++)
            if (i < lead || (shape[i - lead] == 1 && Sizes[i] != 1)) dims.Add(i);
        var s = dims.Count == 0 ? this : Sum(dims.ToArray(), keepDim: true);
        return s.Reshape(shape.ToArray());
    }
}
