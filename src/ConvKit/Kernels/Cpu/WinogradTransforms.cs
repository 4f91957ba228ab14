using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// A register of float lanes with the few operations the Winograd transforms need. The transforms are written
/// once against this interface and instantiated for <see cref="Lanes8"/> (AVX) and <see cref="Lanes4"/> (the
/// portable path), so there is no per-width copy of the arithmetic.
/// </summary>
internal unsafe interface ILanes<TSelf> where TSelf : unmanaged, ILanes<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Load(float* p);
    void Store(float* p);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, float s);
}

internal readonly unsafe struct Lanes8(Vector256<float> v) : ILanes<Lanes8>
{
    private readonly Vector256<float> _v = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(float* p) => _v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 operator +(Lanes8 a, Lanes8 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 operator -(Lanes8 a, Lanes8 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 operator *(Lanes8 a, float s) => new(a._v * s);
}

internal readonly unsafe struct Lanes4(Vector128<float> v) : ILanes<Lanes4>
{
    private readonly Vector128<float> _v = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes4 Load(float* p) => new(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(float* p) => _v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes4 operator +(Lanes4 a, Lanes4 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes4 operator -(Lanes4 a, Lanes4 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes4 operator *(Lanes4 a, float s) => new(a._v * s);
}

/// <summary>A 1-D Winograd transform of In values into Out values, applied to lanes read and written with strides.</summary>
internal unsafe interface ITransform1D
{
    static abstract int In { get; }
    static abstract int Out { get; }
    static abstract void Apply<TV>(TV* s, int ss, TV* d, int ds) where TV : unmanaged, ILanes<TV>;
}

/// <summary>
/// The F(4×4, 3×3) matrices of Lavin &amp; Gray (2015) for the points 0, ±1, ±2, ∞, as straight-line code:
/// Bᵀ (input, 6→6), G (filter, 3→6) and Aᵀ (output, 6→4). <see cref="Sandwich"/> applies one to the
/// columns and then the rows of a square tile, i.e. computes M · t · Mᵀ.
/// </summary>
internal static unsafe class WinogradTransforms
{
    internal struct InputBt : ITransform1D
    {
        public static int In => 6;
        public static int Out => 6;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, int ss, TV* d, int ds) where TV : unmanaged, ILanes<TV>
        {
            TV x0 = s[0], x1 = s[ss], x2 = s[2 * ss], x3 = s[3 * ss], x4 = s[4 * ss], x5 = s[5 * ss];
            TV a = x4 - x2, b = (x3 - x1) * 2f, c = x4 - x2 * 4f, e = x3 - x1 * 4f;
            d[0] = x0 * 4f - x2 * 5f + x4;
            d[ds] = c + e;
            d[2 * ds] = c - e;
            d[3 * ds] = a + b;
            d[4 * ds] = a - b;
            d[5 * ds] = x1 * 4f - x3 * 5f + x5;
        }
    }

    internal struct FilterG : ITransform1D
    {
        public static int In => 3;
        public static int Out => 6;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, int ss, TV* d, int ds) where TV : unmanaged, ILanes<TV>
        {
            TV g0 = s[0], g1 = s[ss], g2 = s[2 * ss];
            TV even = g0 + g2, high = g0 * (1f / 24) + g2 * (1f / 6), mid = g1 * (1f / 12);
            d[0] = g0 * 0.25f;
            d[ds] = (even + g1) * (-1f / 6);
            d[2 * ds] = (even - g1) * (-1f / 6);
            d[3 * ds] = high + mid;
            d[4 * ds] = high - mid;
            d[5 * ds] = g2;
        }
    }

    internal struct OutputAt : ITransform1D
    {
        public static int In => 6;
        public static int Out => 4;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, int ss, TV* d, int ds) where TV : unmanaged, ILanes<TV>
        {
            TV m1 = s[ss], m2 = s[2 * ss], m3 = s[3 * ss], m4 = s[4 * ss];
            TV p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
            d[0] = s[0] + p12 + p34;
            d[ds] = d12 + d34 * 2f;
            d[2 * ds] = p12 + p34 * 4f;
            d[3 * ds] = d12 + d34 * 8f + s[5 * ss];
        }
    }

    /// <summary>dst [Out, Out] = M · src [In, In] · Mᵀ, through tmp [Out, In]; all row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sandwich<TV, TM>(TV* src, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV> where TM : ITransform1D
    {
        int n = TM.In, m = TM.Out;
        for (int j = 0; j < n; j++) TM.Apply(src + j, n, tmp + j, n);
        for (int i = 0; i < m; i++) TM.Apply(tmp + i * n, 1, dst + i * m, 1);
    }
}
