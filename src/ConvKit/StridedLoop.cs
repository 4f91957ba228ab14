namespace ConvKit;

/// <summary>
/// The one loop that walks strided operands: it coalesces dimensions that are contiguous for every
/// operand and hands the innermost run to a span routine, so element-wise ops and copies share it.
/// </summary>
internal static class StridedLoop
{
    /// <summary>One innermost run: base offsets for up to three operands, run length and inner strides.</summary>
    public delegate void RowBody(int offA, int offB, int offC, int length, int strideA, int strideB, int strideC);

    /// <summary>
    /// Visits every row of <paramref name="sizes"/> for up to three operands with their own strides
    /// (0 for broadcast dimensions).
    /// </summary>
    public static void Rows(int[] sizes, int[] sa, int oa, int[] sb, int ob, int[] sc, int oc, RowBody body)
    {
        if (ShapeUtil.Numel(sizes) == 0) return;
        var (sz, a, b, c) = Coalesce(sizes, sa, sb, sc);
        if (sz.Length == 0) { body(oa, ob, oc, 1, 0, 0, 0); return; }
        RunRows(sz, a, b, c, oa, ob, oc, 0, OuterRows(sz), body);
    }

    /// <summary>
    /// <see cref="Rows"/> with the rows split into contiguous runs of rows that run in parallel (<see cref="Parallelism.Ranges"/>),
    /// for bodies whose rows write disjoint elements (a copy, an element-wise op into a fresh result).
    /// </summary>
    public static void ParallelRows(int[] sizes, int[] sa, int oa, int[] sb, int ob, int[] sc, int oc, RowBody body)
    {
        if (ShapeUtil.Numel(sizes) == 0) return;
        var (sz, a, b, c) = Coalesce(sizes, sa, sb, sc);
        if (sz.Length == 0) { body(oa, ob, oc, 1, 0, 0, 0); return; }
        Parallelism.RowRanges(OuterRows(sz), sz[^1], (r0, n) => RunRows(sz, a, b, c, oa, ob, oc, r0, r0 + n, body));
    }

    private static int OuterRows(int[] sz)
    {
        int outer = 1;
        for (int d = 0; d < sz.Length - 1; d++) outer *= sz[d];
        return outer;
    }

    /// <summary>Rows r0 .. r1 of the coalesced dims: each row's offsets from its index, then stepped row by row.</summary>
    private static void RunRows(int[] sz, int[] a, int[] b, int[] c, int oa, int ob, int oc, int r0, int r1, RowBody body)
    {
        int rank = sz.Length;
        var idx = new int[Math.Max(rank - 1, 1)];
        int pa = oa, pb = ob, pc = oc;
        for (int d = rank - 2, rest = r0; d >= 0; d--)
        {
            idx[d] = rest % sz[d];
            rest /= sz[d];
            pa += idx[d] * a[d]; pb += idx[d] * b[d]; pc += idx[d] * c[d];
        }
        for (int r = r0; r < r1; r++)
        {
            body(pa, pb, pc, sz[rank - 1], a[rank - 1], b[rank - 1], c[rank - 1]);
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++;
                pa += a[d]; pb += b[d]; pc += c[d];
                if (idx[d] < sz[d]) break;
                pa -= a[d] * sz[d]; pb -= b[d] * sz[d]; pc -= c[d] * sz[d];
                idx[d] = 0;
            }
        }
    }

    private static (int[], int[], int[], int[]) Coalesce(int[] sizes, int[] sa, int[] sb, int[] sc)
    {
        var sz = new List<int>(); var a = new List<int>(); var b = new List<int>(); var c = new List<int>();
        for (int d = 0; d < sizes.Length; d++)
        {
            if (sizes[d] == 1) continue;
            int n = sz.Count;
            if (n > 0 && a[n - 1] == sa[d] * sizes[d] && b[n - 1] == sb[d] * sizes[d] && c[n - 1] == sc[d] * sizes[d])
            {
                sz[n - 1] *= sizes[d];
                a[n - 1] = sa[d]; b[n - 1] = sb[d]; c[n - 1] = sc[d];
                continue;
            }
            sz.Add(sizes[d]); a.Add(sa[d]); b.Add(sb[d]); c.Add(sc[d]);
        }
        return (sz.ToArray(), a.ToArray(), b.ToArray(), c.ToArray());
    }

    /// <summary>Copies <paramref name="src"/> into <paramref name="dst"/> (same shape, any strides).</summary>
    public static void Copy(Tensor src, Tensor dst)
    {
        if (!ShapeUtil.SameShape(src.Sizes, dst.Sizes))
            throw new ArgumentException($"copy: shapes {ShapeUtil.Format(src.Sizes)} and {ShapeUtil.Format(dst.Sizes)} differ");
        float[] s = src.Storage, d = dst.Storage;
        var zero = new int[src.Dim];
        ParallelRows(src.Sizes, src.Strides, src.Offset, dst.Strides, dst.Offset, zero, 0, (oa, ob, _, n, stA, stB, _) =>
        {
            if (stA == 1 && stB == 1) { Array.Copy(s, oa, d, ob, n); return; }
            if (stA == 0 && stB == 1) { d.AsSpan(ob, n).Fill(s[oa]); return; }
            for (int i = 0; i < n; i++) d[ob + i * stB] = s[oa + i * stA];
        });
    }

    /// <summary>Copies <paramref name="src"/> into a contiguous buffer at <paramref name="offset"/>.</summary>
    public static void Copy(Tensor src, float[] dst, int offset) =>
        Copy(src, new Tensor(dst, offset, src.Sizes, ShapeUtil.ContiguousStrides(src.Sizes)));

    /// <summary>Strides of <paramref name="t"/> broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static int[] BroadcastStrides(Tensor t, int[] shape)
    {
        var st = new int[shape.Length];
        int lead = shape.Length - t.Dim;
        for (int i = 0; i < t.Dim; i++)
            st[lead + i] = t.Sizes[i] == 1 && shape[lead + i] != 1 ? 0 : t.Strides[i];
        return st;
    }
}
