using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ConvKit;

/// <summary>
/// The library's own workers for parallel loops: <see cref="Engine.Threads"/> − 1 background threads that spin for a
/// short while after each loop before they block, so the next loop (a network runs hundreds of them back to back)
/// starts in well under a microsecond instead of waiting for a thread-pool thread to be woken or scheduled — the
/// same reason OpenMP runtimes keep their threads spinning (KMP_BLOCKTIME, GOMP_SPINCOUNT). One loop runs at a time;
/// a loop started while another runs (another caller thread) runs on its caller alone, so threads never exceed the
/// setting.
/// </summary>
internal static class WorkerPool
{
    /// <summary>How long an idle worker spins before it blocks: long enough to cover the gaps between the kernels of one layer.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private static readonly object Gate = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static Thread[] _workers = [];
    private static Loop? _loop;
    private static int _generation, _sleepers;

    /// <summary>
    /// Runs body(i) for i in [0, count) on the caller and up to <paramref name="threads"/> − 1 workers; items are claimed
    /// in short runs (see <see cref="Loop"/>). Returns false, doing nothing, when another loop holds the workers (the caller then runs it alone).
    /// </summary>
    public static bool TryRun(int count, int threads, Action<int> body)
    {
        if (!Monitor.TryEnter(Gate)) return false;
        try
        {
            EnsureWorkers(threads - 1);
            var loop = new Loop(count, body, Math.Min(threads, _workers.Length + 1));
            Volatile.Write(ref _loop, loop);
            Interlocked.Increment(ref _generation);
            int sleeping = Interlocked.Exchange(ref _sleepers, 0);
            if (sleeping > 0) Wake.Release(sleeping);
            loop.Work();
            // The caller ran out of items; wait for the workers' items in flight (each is short).
            var spin = new SpinWait();
            while (Volatile.Read(ref loop.Remaining) != 0) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _loop, null);
            loop.Error?.Throw();
            return true;
        }
        finally { Monitor.Exit(Gate); }
    }

    private static void EnsureWorkers(int wanted)
    {
        if (_workers.Length >= wanted) return;
        var grown = new Thread[wanted];
        Array.Copy(_workers, grown, _workers.Length);
        for (int i = _workers.Length; i < wanted; i++)
        {
            int id = i + 1;
            grown[i] = new Thread(() => WorkerMain(id)) { IsBackground = true, Name = $"ConvKit worker {id}" };
            grown[i].Start();
        }
        _workers = grown;
    }

    private static void WorkerMain(int id)
    {
        int seen = Volatile.Read(ref _generation);
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (Stopwatch.GetTimestamp() - start < SpinTicks) { Thread.SpinWait(30); continue; }
                // Announce sleep, then re-check: a loop published in between either sees us counted (and releases us)
                // or is seen here; a release meant for an earlier loop only causes one extra turn of this loop.
                Interlocked.Increment(ref _sleepers);
                if (Volatile.Read(ref _generation) == seen) Wake.Wait();
                start = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref _generation);
            if (Volatile.Read(ref _loop) is { } loop && id < loop.Threads) loop.Work();
        }
    }

    /// <summary>
    /// One loop's items, claimed in runs of <c>count / (16 · threads)</c>: each claim and completion is a contended
    /// atomic, which cost more than a small item (a 7×7 plane of SmallSECnn's batch norm or gate); sixteen runs per
    /// thread still balance uneven items.
    /// </summary>
    private sealed class Loop(int count, Action<int> body, int threads)
    {
        public readonly int Threads = threads;
        private readonly int _count = count;
        private readonly int _grain = Math.Max(1, count / (16 * threads));
        private int _next;
        public int Remaining = count;
        public ExceptionDispatchInfo? Error;

        public void Work()
        {
            bool outer = Parallelism.Inside;
            Parallelism.Inside = true;
            try
            {
                int start;
                while ((start = Interlocked.Add(ref _next, _grain) - _grain) < _count)
                {
                    int end = Math.Min(_count, start + _grain);
                    for (int i = start; i < end; i++)
                    {
                        try { body(i); }
                        catch (Exception e) { Error ??= ExceptionDispatchInfo.Capture(e); }
                    }
                    Interlocked.Add(ref Remaining, -(end - start));
                }
            }
            finally { Parallelism.Inside = outer; }
        }
    }
}
