namespace ConvKit;

/// <summary>Which convolution algorithm runs. <see cref="Auto"/> lets the dispatcher pick per shape.</summary>
public enum ConvAlgorithm
{
    Auto,
    /// <summary>The textbook loops of Kernels/Reference: the oracle.</summary>
    Reference,
    /// <summary>im2col (or the input itself for 1×1) followed by the packed GEMM.</summary>
    Im2ColGemm,
    /// <summary>Direct depthwise kernel (one input channel per group); forcing it elsewhere falls back to the automatic choice.</summary>
    Depthwise,
    /// <summary>Winograd F(4×4, 3×3) for 3×3, stride-1, dilation-1 layers; forcing it elsewhere falls back to the automatic choice.</summary>
    Winograd,
    /// <summary>Winograd F(2×2, 3×3) for 3×3, stride-1, dilation-1 layers (coefficients 0, ±1, ±½: less rounding than F(4×4)); forcing it elsewhere falls back to the automatic choice.</summary>
    Winograd2,
    /// <summary>Winograd F(3, 4) along rows for stride-2 convolutions with 5–8 filter columns (the 7×7/s2 stem), on each polyphase half of the filter rows; forcing it elsewhere falls back to the automatic choice.</summary>
    RowWinograd,
}

/// <summary>
/// Process-wide engine settings: the thread count (also from the CONVKIT_NUM_THREADS environment variable)
/// and a scoped override of the convolution algorithm so tests can force every path.
/// </summary>
public static class Engine
{
    private static int _threads = DefaultThreads();
    private static readonly AsyncLocal<ConvAlgorithm?> _forced = new();

    /// <summary>Threads the kernels may use (<c>torch.set_num_threads</c>); default = CONVKIT_NUM_THREADS or the core count.</summary>
    public static int Threads
    {
        get => _threads;
        set => _threads = value >= 1 ? value : throw new ArgumentException($"Threads: expected a positive thread count, got {value}");
    }

    /// <summary>
    /// Bytes that Winograd filters kept across inference calls may take (default 256 MiB). Repeated inference with
    /// unchanged weights then skips the filter transform, which is what lets small planes of many channels
    /// (N1 C256 14×14) run on Winograd at all. Each entry also holds a copy of its weights, compared with the weights of
    /// every call, so a changed weight is never served stale filters. 0 turns the cache off, and with it Winograd on
    /// those small planes; a layer whose filters do not fit still runs on Winograd, transforming them on each call.
    /// </summary>
    public static long FilterCacheBytes
    {
        get => _filterCacheBytes;
        set => _filterCacheBytes = value >= 0 ? value : throw new ArgumentException($"FilterCacheBytes: expected a non-negative byte count, got {value}");
    }

    private static long _filterCacheBytes = 256L << 20;

    /// <summary>The algorithm in force on this async flow (Auto unless <see cref="Force"/> is active).</summary>
    public static ConvAlgorithm Algorithm => _forced.Value ?? ConvAlgorithm.Auto;

    /// <summary>Forces one convolution algorithm until the returned scope is disposed (flows with async calls).</summary>
    public static IDisposable Force(ConvAlgorithm algorithm) => AsyncLocalScope.Set(_forced, algorithm);

    private static int DefaultThreads()
    {
        var env = Environment.GetEnvironmentVariable("CONVKIT_NUM_THREADS");
        return int.TryParse(env, out var n) && n >= 1 ? n : Environment.ProcessorCount;
    }
}
