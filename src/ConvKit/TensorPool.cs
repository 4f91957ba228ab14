namespace ConvKit;

/// <summary>
/// Free tensor storage, kept for reuse. Arrays come back only from <see cref="TensorScope"/>s and from the backward
/// pass, which know that nothing else can reach them. Buckets hold exact lengths: a training loop asks for the
/// same shapes every step, so exact buckets reuse everything and waste nothing, where power-of-two buckets
/// (ArrayPool) would round each activation up by a third on average and hold few arrays per size.
/// </summary>
public static class TensorPool
{
    /// <summary>Arrays below this length are left to the GC: a gen-0 allocation of a few KB costs less than a lookup.</summary>
    internal const int MinLength = 1024;

    private static readonly Lock Gate = new();
    private static long _bytes;
    private static long _maxBytes = DefaultMaxBytes();

    /// <summary>
    /// A debugging aid: when set, released storage is overwritten (floats with NaN, int64 with long.MinValue), so a
    /// tensor used after its <see cref="TensorScope"/> ended shows as NaN or a bad index instead of stale numbers.
    /// The test suites run with it on.
    /// </summary>
    public static bool PoisonReleased { get; set; }

    /// <summary>Bytes held free for reuse now.</summary>
    public static long PooledBytes { get { lock (Gate) return _bytes; } }

    /// <summary>The most bytes held free; arrays released beyond it go to the GC. Default: a quarter of the memory the GC may use.</summary>
    public static long MaxPooledBytes
    {
        get => _maxBytes;
        set => _maxBytes = value >= 0 ? value : throw new ArgumentException($"MaxPooledBytes: expected a byte count ≥ 0, got {value}");
    }

    /// <summary>Drops every free array, handing its memory back to the GC (for example after training, before inference).</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Buckets<float>.Free.Clear();
            Buckets<long>.Free.Clear();
            _bytes = 0;
        }
    }

    /// <summary>An array of exactly <paramref name="length"/> elements, reused when one is free; zeroed on request, else with stale contents.</summary>
    internal static T[] Rent<T>(int length, bool zero) where T : unmanaged
    {
        if (length >= MinLength)
        {
            T[]? reused = null;
            lock (Gate)
            {
                if (Buckets<T>.Free.TryGetValue(length, out var stack) && stack.TryPop(out reused)) _bytes -= Bytes(reused);
            }
            if (reused is not null)
            {
                if (zero) Array.Clear(reused);
                return reused;
            }
        }
        return zero ? new T[length] : GC.AllocateUninitializedArray<T>(length);
    }

    /// <summary>Takes back an array that nothing references any more (a float[] or long[] tensor storage).</summary>
    internal static void Return(Array array)
    {
        switch (array)
        {
            case float[] f:
                if (PoisonReleased) f.AsSpan().Fill(float.NaN);
                Return(f);
                break;
            case long[] l:
                if (PoisonReleased) l.AsSpan().Fill(long.MinValue);
                Return(l);
                break;
        }
    }

    private static void Return<T>(T[] array) where T : unmanaged
    {
        if (array.Length < MinLength) return;
        lock (Gate)
        {
            if (_bytes + Bytes(array) > _maxBytes) return;
            if (!Buckets<T>.Free.TryGetValue(array.Length, out var stack)) Buckets<T>.Free[array.Length] = stack = new Stack<T[]>();
            stack.Push(array);
            _bytes += Bytes(array);
        }
    }

    private static unsafe long Bytes<T>(T[] array) where T : unmanaged => (long)sizeof(T) * array.Length;

    private static long DefaultMaxBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>Free arrays of one element type by exact length; guarded by <see cref="Gate"/>.</summary>
    private static class Buckets<T> where T : unmanaged
    {
        public static readonly Dictionary<int, Stack<T[]>> Free = new();
    }
}
