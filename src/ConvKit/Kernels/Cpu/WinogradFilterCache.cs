namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Winograd-transformed filters U of one weight tensor, each ξ matrix packed for <see cref="Gemm.Isa"/>'s micro-kernel
/// (<see cref="Gemm.PackWholeA"/>), the matrices of group g at (g · α² + ξ) · <see cref="XiStride"/>.
/// </summary>
internal sealed record TransformedFilters(float[] U, int Alpha, GemmIsa Isa, long XiStride);

/// <summary>
/// Transformed filters kept across inference calls with the same weights, so repeated inference (a model in eval mode
/// serving one image after another, an ONNX graph's initializers) stops paying the filter transform on every call:
/// at N1 C256 14×14 that transform costs about as much as im2col's whole convolution, which is why Auto keeps such
/// layers off Winograd when it must transform each time. The filters are kept packed in the GEMM's A slivers
/// (<see cref="Gemm.PackWholeA"/>), so the per-position GEMMs read one sequential stream instead of re-reading U
/// row by row.
/// <para>
/// Reuse is decided by content, not by trust: an entry keeps a copy of the weights it was made from, and a lookup
/// compares the weights it is given with that copy, every bit, before it hands out U. ConvKit has no version counter
/// on tensors (the public indexer, the optimizers, <c>LoadStateDict</c> and <c>Init</c> all write weights in place),
/// so a cache keyed by identity alone could serve filters of weights that have since changed. The comparison reads
/// the weights twice; the transform it saves reads them once and writes 4× as much, then packs that.
/// </para>
/// <para>
/// The algorithm never depends on the cache's state: a layer <see cref="F4x4.WinsWithCachedFilters"/> picks runs on
/// Winograd on every call, with filters from the cache or, when they are not kept, transformed as usual, and both give
/// the same bits.
/// </para>
/// <para>
/// Entries are keyed by the weight's storage array (held weakly) and offset. The first weights to arrive are kept, up
/// to <see cref="Engine.FilterCacheBytes"/>; weights that find no room run without the cache. Least-recently-used
/// eviction would thrash on a model whose layers need more than the budget (each forward pass evicting the entries the
/// next needs first: the UNet forward at 128×128 needs 268 MiB, and with LRU at 256 MiB it went from 170–200 ms to
/// 250–850 ms, every lookup a miss), so an entry leaves only when its weights are collected, when they change (it is
/// made again from the new ones if there is room), or on a lower budget.
/// </para>
/// </summary>
internal static class WinogradFilterCache
{
    private sealed class Entry(WeakReference<float[]> key, int offset, Conv2dParams p, float[] copy, TransformedFilters filters)
    {
        public readonly WeakReference<float[]> Key = key;
        public readonly int Offset = offset;
        public readonly Conv2dParams P = p;
        public readonly float[] Copy = copy;
        public readonly TransformedFilters Filters = filters;
        public long Bytes => 4L * (Copy.Length + Filters.U.Length);
    }

    private static readonly List<Entry> _entries = [];

    /// <summary>Lookups on this thread that found their filters cached (for tests).</summary>
    [ThreadStatic] internal static long Hits;

    /// <summary>Bytes the entries hold now.</summary>
    internal static long Bytes
    {
        get { lock (_entries) return _entries.Sum(e => e.Bytes); }
    }

    /// <summary>Drops every entry (tests start from an empty cache).</summary>
    internal static void Clear()
    {
        lock (_entries) _entries.Clear();
    }

    /// <summary>
    /// <typeparamref name="TTile"/>'s packed filters for weights w [COut, CIn/g, 3, 3] stored in
    /// <paramref name="storage"/> at <paramref name="offset"/>: the cached ones when an earlier call left an equal copy
    /// of w, else a fresh transform kept for the next call, or null when there is no room to keep one.
    /// </summary>
    public static TransformedFilters? Get<TTile>(float[] storage, int offset, ReadOnlySpan<float> w, Conv2dParams p) where TTile : IWinogradTile
    {
        var isa = Gemm.Isa;
        lock (_entries)
        {
            var e = Find(storage, offset, p);
            if (e is not null)
            {
                if (e.Filters.Alpha == TTile.Alpha && e.Filters.Isa == isa && Equal(w, e.Copy))
                {
                    Hits++;
                    return e.Filters;
                }
                _entries.Remove(e);
            }
            long bytes = 4L * (w.Length + WinogradConv<TTile>.TransformedFloats(p, isa));
            if (bytes > Room()) return null;
            var filters = WinogradConv<TTile>.TransformFilters(w, p, isa);
            _entries.Add(new Entry(new WeakReference<float[]>(storage), offset, p, w.ToArray(), filters));
            return filters;
        }
    }

    /// <summary>Whether w equals copy float for float (bitwise: −0 and NaN payloads count), split over the threads.</summary>
    private static unsafe bool Equal(ReadOnlySpan<float> w, float[] copy)
    {
        const int Part = 1 << 16;
        if (w.Length != copy.Length) return false;
        int parts = (w.Length + Part - 1) / Part, differ = 0;
        fixed (float* pw = w, pc = copy)
        {
            nint a = (nint)pw, b = (nint)pc;
            int length = w.Length;
            Parallelism.For(parts, i =>
            {
                int start = i * Part, count = Math.Min(Part, length - start);
                if (Volatile.Read(ref differ) == 0 && !new ReadOnlySpan<int>((int*)a + start, count).SequenceEqual(new ReadOnlySpan<int>((int*)b + start, count)))
                    Volatile.Write(ref differ, 1);
            });
        }
        return differ == 0;
    }

    private static Entry? Find(float[] storage, int offset, Conv2dParams p)
    {
        foreach (var e in _entries)
            if (e.Offset == offset && e.Key.TryGetTarget(out var k) && ReferenceEquals(k, storage) && SameWeights(e.P, p))
                return e;
        return null;
    }

    /// <summary>Geometries whose weights have the same shape and whose transformed filters have the same layout.</summary>
    private static bool SameWeights(Conv2dParams a, Conv2dParams b) =>
        a.COut == b.COut && a.CIn == b.CIn && a.Groups == b.Groups && a.KH == b.KH && a.KW == b.KW;

    /// <summary>Bytes left within the budget once entries of collected weights are dropped (all are dropped past a lowered budget).</summary>
    private static long Room()
    {
        _entries.RemoveAll(e => !e.Key.TryGetTarget(out _));
        long total = _entries.Sum(e => e.Bytes), budget = Engine.FilterCacheBytes;
        if (total > budget)
        {
            _entries.Clear();
            total = 0;
        }
        return budget - total;
    }
}
