namespace ConvKit;

/// <summary>
/// A seeded random-number generator, the analogue of <c>torch.Generator</c> on the CPU: a Mersenne
/// Twister (mt19937) seeded as PyTorch seeds it, producing floats with PyTorch's 24-bit transform, so
/// <c>new Generator(0)</c> followed by <c>Tensor.Rand</c> reproduces <c>torch.manual_seed(0); torch.rand(...)</c>.
/// </summary>
public sealed class Generator
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;
    private double? _nextNormal;
    private readonly object _lock = new();

    /// <summary>The process-wide default generator (<c>torch.default_generator</c>), seeded with 67280421310721 like PyTorch.</summary>
    public static Generator Default { get; } = new(67280421310721UL);

    private static readonly AsyncLocal<Generator?> _current = new();

    /// <summary>
    /// The generator that creation functions and initialisations use when none is passed: <see cref="Default"/>,
    /// unless a <see cref="Use"/> scope is active on this async flow.
    /// </summary>
    public static Generator Current => _current.Value ?? Default;

    /// <summary>Makes <paramref name="generator"/> the <see cref="Current"/> one until the scope is disposed (e.g. to seed a model's initialisation).</summary>
    public static IDisposable Use(Generator generator) => AsyncLocalScope.Set(_current, generator);

    public ulong InitialSeed { get; private set; }

    public Generator(ulong seed = 67280421310721UL) => ManualSeed(seed);

    /// <summary>Re-seeds the generator, as <c>torch.Generator.manual_seed</c>.</summary>
    public Generator ManualSeed(ulong seed)
    {
        lock (_lock)
        {
            InitialSeed = seed;
            _mt[0] = (uint)seed;
            for (uint i = 1; i < N; i++)
                _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + i;
            _index = N;
            _nextNormal = null;
        }
        return this;
    }

    private uint NextUInt32Unlocked()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
            uint v = _mt[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0) v ^= 0x9908b0dfu;
            _mt[i] = v;
        }
        _index = 0;
    }

    /// <summary>
    /// A snapshot of the generator's full state (<c>torch.Generator.get_state</c>; ConvKit's own layout: the seed,
    /// the 624 Mersenne Twister words, the position and the cached normal), to resume a random stream exactly.
    /// </summary>
    public byte[] GetState()
    {
        lock (_lock)
        {
            var s = new byte[StateBytes];
            var span = s.AsSpan();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span, InitialSeed);
            for (int i = 0; i < N; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(span[(8 + 4 * i)..], _mt[i]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span[(8 + 4 * N)..], _index);
            span[12 + 4 * N] = _nextNormal.HasValue ? (byte)1 : (byte)0;
            System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(span[(13 + 4 * N)..], _nextNormal ?? 0);
            return s;
        }
    }

    /// <summary>Restores a state from <see cref="GetState"/> (<c>set_state</c>); a malformed state raises ArgumentException.</summary>
    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateBytes) throw new ArgumentException($"Generator.SetState: expected a state of {StateBytes} bytes, got {state.Length}");
        int index = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(state[(8 + 4 * N)..]);
        byte hasNormal = state[12 + 4 * N];
        if (index < 0 || index > N || hasNormal > 1)
            throw new ArgumentException($"Generator.SetState: expected position in [0, {N}] and a 0/1 normal flag, got {index} and {hasNormal}");
        lock (_lock)
        {
            InitialSeed = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(state);
            for (int i = 0; i < N; i++) _mt[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(state[(8 + 4 * i)..]);
            _index = index;
            _nextNormal = hasNormal == 1 ? System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(state[(13 + 4 * N)..]) : null;
        }
    }

    private const int StateBytes = 8 + 4 * N + 4 + 1 + 8;

    public uint NextUInt32() { lock (_lock) return NextUInt32Unlocked(); }

    private float UniformFloatUnlocked() => (NextUInt32Unlocked() & 0xFFFFFF) * (1.0f / 16777216.0f);

    private double UniformDoubleUnlocked()
    {
        ulong hi = NextUInt32Unlocked(), lo = NextUInt32Unlocked();
        ulong v = (hi << 32) | lo;
        return (v & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));
    }

    /// <summary>Fills with U[from, to) as <c>Tensor.uniform_</c> does for float32.</summary>
    public void FillUniform(Span<float> dst, float from = 0f, float to = 1f)
    {
        // PyTorch's CPU distribution kernels are built with FMA contraction: x·(to − from) + from is one fused op.
        float range = to - from;
        lock (_lock)
            for (int i = 0; i < dst.Length; i++)
                dst[i] = MathF.FusedMultiplyAdd(UniformFloatUnlocked(), range, from);
    }

    /// <summary>Fills with N(mean, std²) using PyTorch's CPU algorithm (Box-Muller in blocks of 16, or per element below 16).</summary>
    public void FillNormal(Span<float> dst, float mean = 0f, float std = 1f)
    {
        lock (_lock)
        {
            if (dst.Length >= 16)
            {
                for (int i = 0; i < dst.Length; i++) dst[i] = UniformFloatUnlocked();
                for (int i = 0; i + 16 <= dst.Length; i += 16) NormalFill16(dst.Slice(i, 16), mean, std);
                if (dst.Length % 16 != 0)
                {
                    var tail = dst[^16..];
                    for (int i = 0; i < 16; i++) tail[i] = UniformFloatUnlocked();
                    NormalFill16(tail, mean, std);
                }
                return;
            }
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)(NextNormalUnlocked() * std + mean);
        }
    }

    private static void NormalFill16(Span<float> d, float mean, float std)
    {
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1 - d[j], u2 = d[j + 8];
            float radius = MathF.Sqrt(-2 * MathF.Log(u1));
            float theta = (float)(2.0 * Math.PI * u2);
            d[j] = radius * MathF.Cos(theta) * std + mean;
            d[j + 8] = radius * MathF.Sin(theta) * std + mean;
        }
    }

    private double NextNormalUnlocked()
    {
        if (_nextNormal is double cached) { _nextNormal = null; return cached; }
        double u1 = UniformDoubleUnlocked(), u2 = UniformDoubleUnlocked();
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        _nextNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }

    /// <summary>Bernoulli(p) draws as 0/1 floats (used by dropout).</summary>
    public void FillBernoulli(Span<float> dst, double p)
    {
        lock (_lock)
            for (int i = 0; i < dst.Length; i++)
                dst[i] = UniformDoubleUnlocked() < p ? 1f : 0f;
    }

    /// <summary>
    /// A random permutation of 0..n−1 drawn as <c>torch.randperm(n, generator=g)</c> does on the CPU (a forward
    /// Fisher–Yates with <c>random() % (n − i)</c>), so the same seed shuffles data in PyTorch's order.
    /// </summary>
    public int[] Permutation(int n)
    {
        if (n < 0) throw new ArgumentException($"Permutation: n must be non-negative, got {n}");
        var p = Enumerable.Range(0, n).ToArray();
        lock (_lock)
            for (int i = 0; i < n - 1; i++)
            {
                int z = (int)(NextUInt32Unlocked() % (uint)(n - i));
                (p[i], p[z + i]) = (p[z + i], p[i]);
            }
        return p;
    }
}
