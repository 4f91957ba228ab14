namespace ConvKit;

/// <summary>
/// The one parallel loop of the library: items are claimed one at a time by the caller and up to
/// <see cref="Engine.Threads"/> − 1 spinning workers (<see cref="WorkerPool"/>). A loop started inside another runs
/// inline, and so does one started while another caller's loop holds the workers, so nesting never oversubscribes.
/// </summary>
internal static class Parallelism
{
    /// <summary>True on a thread while it runs items of a parallel loop.</summary>
    [ThreadStatic] internal static bool Inside;

    /// <summary>Threads a kernel may use here: 1 inside a parallel region, else <see cref="Engine.Threads"/>.</summary>
    public static int Threads => Inside ? 1 : Engine.Threads;

    public static void For(int count, Action<int> body) => For(count, Threads, body);

    /// <summary>False runs every <see cref="Ranges"/> loop as one range, for paired A/B measurements. Default true.</summary>
    internal static bool SplitRanges = true;

    /// <summary>One contiguous range [start, start + length) of a <see cref="Ranges"/> loop.</summary>
    public delegate void RangeBody(int start, int length);

    /// <summary>
    /// Elements per range from which <see cref="Ranges"/> splits: 32 K floats (128 KiB) is ~10 µs of a memory-bound
    /// element-wise pass, ten times a wake-up of the spinning workers.
    /// </summary>
    internal const int RangeGrain = 1 << 15;

    /// <summary>
    /// body over [0, length) in contiguous ranges of at least <see cref="RangeGrain"/> elements (each but the last a
    /// multiple of 16, so vectorised spans split where they would run whole vectors anyway), in parallel when there are
    /// two or more: the element-wise passes, copies and gradient sums of a training step, which are otherwise the
    /// serial stretches during which the other core waits.
    /// </summary>
    public static void Ranges(int length, RangeBody body)
    {
        int chunks = Threads <= 1 || !SplitRanges ? 1 : Math.Min(4 * Threads, length / RangeGrain);
        if (chunks <= 1)
        {
            if (length > 0) body(0, length);
            return;
        }
        int step = ((length + chunks - 1) / chunks + 15) & ~15;
        For((length + step - 1) / step, i => body(i * step, Math.Min(step, length - i * step)));
    }

    /// <summary>
    /// body(r0, r1) over rows [0, rows) of <paramref name="rowLength"/> elements each, split as <see cref="Ranges"/> splits
    /// their elements: each range takes the rows that start in it, so short rows group and long ones stay whole.
    /// </summary>
    public static void RowRanges(int rows, int rowLength, RangeBody body) =>
        Ranges(rows * rowLength, (start, length) =>
        {
            int r0 = (start + rowLength - 1) / rowLength, r1 = Math.Min(rows, (start + length + rowLength - 1) / rowLength);
            if (r0 < r1) body(r0, r1 - r0);
        });

    /// <summary>body(i) for i in [0, count) on at most <paramref name="threads"/> threads.</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        threads = Math.Min(Math.Min(threads, Threads), count);
        if (threads > 1 && WorkerPool.TryRun(count, threads, body)) return;
        bool outer = Inside;
        Inside = true;
        try { for (int i = 0; i < count; i++) body(i); }
        finally { Inside = outer; }
    }
}
