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
