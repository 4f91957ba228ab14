namespace ConvKit.Onnx;

/// <summary>Index arithmetic on int64 values (shape subgraphs): gather by per-dim index lists, concat, transpose.</summary>
internal static class IntTensorOps
{
    /// <summary>out[i0, i1, ...] = data[idx[0][i0], idx[1][i1], ...]; the output shape is the index list lengths.</summary>
    public static long[] Index(long[] data, int[] shape, int[][] idx)
    {
        var strides = Strides(shape);
        int n = idx.Aggregate(1, (a, l) => checked(a * l.Length));
        var r = new long[n];
        var pos = new int[shape.Length];
        for (int o = 0; o < n; o++)
        {
            long src = 0;
            for (int d = 0; d < pos.Length; d++) src += (long)idx[d][pos[d]] * strides[d];
            r[o] = data[src];
            for (int d = pos.Length - 1; d >= 0; d--)
            {
                if (++pos[d] < idx[d].Length) break;
                pos[d] = 0;
            }
        }
        return r;
    }

    public static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
        return s;
    }

    public static OnnxValue Concat(IReadOnlyList<OnnxValue> parts, int axis)
    {
        var shape = (int[])parts[0].Shape.Clone();
        shape[axis] = parts.Sum(p => p.Shape[axis]);
        int outer = shape[..axis].Aggregate(1, (a, b) => a * b);
        var r = new List<long>(shape.Aggregate(1, (a, b) => a * b));
        for (int o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                int chunk = p.Shape[axis..].Aggregate(1, (a, b) => a * b);
                r.AddRange(p.Ints!.AsSpan(o * chunk, chunk).ToArray());
            }
        return OnnxValue.Of(r.ToArray(), shape);
    }

    public static OnnxValue Transpose(OnnxValue v, int[] perm)
    {
        var shape = perm.Select(p => v.Shape[p]).ToArray();
        var inStrides = Strides(v.Shape);
        var r = new long[v.Ints!.Length];
        var pos = new int[shape.Length];
        for (int o = 0; o < r.Length; o++)
        {
            long src = 0;
            for (int d = 0; d < pos.Length; d++) src += (long)pos[d] * inStrides[perm[d]];
            r[o] = v.Ints[src];
            for (int d = pos.Length - 1; d >= 0; d--)
            {
                if (++pos[d] < shape[d]) break;
                pos[d] = 0;
            }
        }
        return OnnxValue.Of(r, shape);
    }
}
