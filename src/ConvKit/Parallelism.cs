using System.Runtime.ExceptionServices;

namespace ConvKit;

/// <summary>
/// The one parallel loop of the library: items are claimed one at a time by the caller and up to
/// <see cref="Engine.Threads"/> − 1 pool threads (queued work items start in microseconds, unlike
/// Parallel.For's replicas). A loop started inside another runs inline, so nesting never oversubscribes.
/// </summary>
internal static class Parallelism
{
    [ThreadStatic] private static bool _inside;

    /// <summary>Threads a kernel may use here: 1 inside a parallel region, else <see cref="Engine.Threads"/>.</summary>
    public static int Threads => _inside ? 1 : Engine.Threads;

    public static void For(int count, Action<int> body)
    {
        int threads = Math.Min(Threads, count);
        if (threads <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        var job = new Job(count, body);
        for (int t = 1; t < threads; t++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        job.Execute();
        var spin = new SpinWait();
        while (Volatile.Read(ref job.Remaining) != 0) spin.SpinOnce(sleep1Threshold: -1);
        job.Error?.Throw();
    }

    private sealed class Job(int count, Action<int> body) : IThreadPoolWorkItem
    {
        private readonly int _count = count;
        private int _next;
        public int Remaining = count;
        public ExceptionDispatchInfo? Error;

        public void Execute()
        {
            bool outer = _inside;
            _inside = true;
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref _next) - 1) < _count)
                {
                    try { body(i); }
                    catch (Exception e) { Error ??= ExceptionDispatchInfo.Capture(e); }
                    finally { Interlocked.Decrement(ref Remaining); }
                }
            }
            finally { _inside = outer; }
        }
    }
}
