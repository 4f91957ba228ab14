using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    static abstract TSelf Broadcast(float s);
    void Store(float* p);

    /// <summary>The 6 columns of Count side-by-side 6×6 tiles at stride 4: cols[j][l] = row[4l + j]; reads row[0 .. 4·Count + 4).</summary>
    static abstract void LoadStride4(float* row, TSelf* cols);

    /// <summary>The inverse for 4-wide output tiles: row[4l + j] = cols[j][l], j &lt; 4; writes row[0 .. 4·Count).</summary>
    static abstract void StoreStride4(TSelf* cols, float* row);

    /// <summary>The 4 columns of Count side-by-side 4×4 tiles at stride 2: cols[j][l] = row[2l + j]; reads row[0 .. 2·Count + 2).</summary>
    static abstract void LoadStride2(float* row, TSelf* cols);

    /// <summary>The inverse for 2-wide output tiles: row[2l + j] = cols[j][l], j &lt; 2; writes row[0 .. 2·Count).</summary>
    static abstract void StoreStride2(TSelf* cols, float* row);

    /// <summary>
    /// One column parity's inputs of Count side-by-side row tiles of the stride-2 F(3, 4) (<see cref="RowWinogradConv"/>):
    /// cols[e][l] = row[6l + 2e], e &lt; 6; reads row[0 .. 6·Count + 5).
    /// </summary>
    static abstract void LoadStride6Even(float* row, TSelf* cols);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, float s);
}

internal readonly unsafe struct Lanes8(Vector256<float> v) : ILanes<Lanes8>
{
    private readonly Vector256<float> _v = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes8 Broadcast(float s) => new(Vector256.Create(s));

    // Only instantiated when Avx.IsSupported. Both directions are an 8×4 ↔ 4×8 transpose: swap 128-bit halves so
    // each half holds four tiles, then the classic 4×4 unpack/shuffle transpose within the halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadStride4(float* row, Lanes8* cols)
    {
        Transpose8x4(row, out cols[0], out cols[1], out cols[2], out cols[3]);
        Transpose8x4(row + 4, out cols[4], out cols[5], out _, out _);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x4(float* r, out Lanes8 c0, out Lanes8 c1, out Lanes8 c2, out Lanes8 c3)
    {
        Vector256<float> a0 = Avx.LoadVector256(r), a1 = Avx.LoadVector256(r + 8), a2 = Avx.LoadVector256(r + 16), a3 = Avx.LoadVector256(r + 24);
        Vector256<float> b0 = Avx.Permute2x128(a0, a2, 0x20), b1 = Avx.Permute2x128(a0, a2, 0x31);
        Vector256<float> b2 = Avx.Permute2x128(a1, a3, 0x20), b3 = Avx.Permute2x128(a1, a3, 0x31);
        Vector256<float> u0 = Avx.UnpackLow(b0, b1), u1 = Avx.UnpackHigh(b0, b1), u2 = Avx.UnpackLow(b2, b3), u3 = Avx.UnpackHigh(b2, b3);
        c0 = new(Avx.Shuffle(u0, u2, 0x44));
        c1 = new(Avx.Shuffle(u0, u2, 0xEE));
        c2 = new(Avx.Shuffle(u1, u3, 0x44));
        c3 = new(Avx.Shuffle(u1, u3, 0xEE));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStride4(Lanes8* cols, float* row)
    {
        Vector256<float> u0 = Avx.UnpackLow(cols[0]._v, cols[1]._v), u1 = Avx.UnpackHigh(cols[0]._v, cols[1]._v);
        Vector256<float> u2 = Avx.UnpackLow(cols[2]._v, cols[3]._v), u3 = Avx.UnpackHigh(cols[2]._v, cols[3]._v);
        Vector256<float> b0 = Avx.Shuffle(u0, u2, 0x44), b1 = Avx.Shuffle(u0, u2, 0xEE), b2 = Avx.Shuffle(u1, u3, 0x44), b3 = Avx.Shuffle(u1, u3, 0xEE);
        Avx.Store(row, Avx.Permute2x128(b0, b1, 0x20));
        Avx.Store(row + 8, Avx.Permute2x128(b2, b3, 0x20));
        Avx.Store(row + 16, Avx.Permute2x128(b0, b1, 0x31));
        Avx.Store(row + 24, Avx.Permute2x128(b2, b3, 0x31));
    }

    // Stride 2 is an even/odd split of 16 consecutive floats (Shuffles.Deinterleave); storing interleaves two registers back.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadStride2(float* row, Lanes8* cols)
    {
        Deinterleave(row, out cols[0], out cols[1]);
        Deinterleave(row + 2, out cols[2], out cols[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deinterleave(float* r, out Lanes8 even, out Lanes8 odd)
    {
        var (e, o) = Shuffles.Deinterleave(Avx.LoadVector256(r), Avx.LoadVector256(r + 8));
        even = new(e);
        odd = new(o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStride2(Lanes8* cols, float* row)
    {
        Vector256<float> lo = Avx.UnpackLow(cols[0]._v, cols[1]._v), hi = Avx.UnpackHigh(cols[0]._v, cols[1]._v);
        Avx.Store(row, Avx.Permute2x128(lo, hi, 0x20));
        Avx.Store(row + 8, Avx.Permute2x128(lo, hi, 0x31));
    }

    // Only instantiated when Avx2.IsSupported: six hardware gathers (a shuffle network for stride 6 across 56 floats
    // would need more instructions than the gathers' loads).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadStride6Even(float* row, Lanes8* cols)
    {
        var index = Vector256.Create(0, 6, 12, 18, 24, 30, 36, 42);
        for (int e = 0; e < 6; e++) cols[e] = new(Avx2.GatherVector256(row + 2 * e, index, 4));
    }
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes4 Broadcast(float s) => new(Vector128.Create(s));

    // The portable path favours plainness over speed: element by element.
    public static void LoadStride4(float* row, Lanes4* cols) => Gather(row, cols, 4, 6);
    public static void StoreStride4(Lanes4* cols, float* row) => Scatter(cols, row, 4);
    public static void LoadStride2(float* row, Lanes4* cols) => Gather(row, cols, 2, 4);
    public static void StoreStride2(Lanes4* cols, float* row) => Scatter(cols, row, 2);

    public static void LoadStride6Even(float* row, Lanes4* cols)
    {
        for (int e = 0; e < 6; e++) cols[e] = new(Vector128.Create(row[2 * e], row[6 + 2 * e], row[12 + 2 * e], row[18 + 2 * e]));
    }

    private static void Gather(float* row, Lanes4* cols, int stride, int columns)
    {
        for (int j = 0; j < columns; j++) cols[j] = new(Vector128.Create(row[j], row[stride + j], row[2 * stride + j], row[3 * stride + j]));
    }

    private static void Scatter(Lanes4* cols, float* row, int stride)
    {
        for (int j = 0; j < stride; j++)
        for (int l = 0; l < 4; l++)
            row[stride * l + j] = cols[j]._v.GetElement(l);
    }
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
    static abstract void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>;
}

/// <summary>
/// The Winograd matrices of Lavin &amp; Gray (2015) as straight-line code: for F(4×4, 3×3) (points 0, ±1, ±2, ∞)
/// Bᵀ (input, 6→6), G (filter, 3→6) and Aᵀ (output, 6→4); for F(2×2, 3×3) (points 0, ±1, ∞) the same three with
/// 4→4, 3→4 and 4→2. <see cref="Sandwich"/> applies one to the columns and then the rows of a square tile, i.e.
/// computes M · t · Mᵀ.
/// </summary>
internal static unsafe class WinogradTransforms
{
    internal struct InputBt : ITransform1D
    {
        public static int In => 6;
        public static int Out => 6;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
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
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
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
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV m1 = s[ss], m2 = s[2 * ss], m3 = s[3 * ss], m4 = s[4 * ss];
            TV p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
            d[0] = s[0] + p12 + p34;
            d[ds] = d12 + d34 * 2f;
            d[2 * ds] = p12 + p34 * 4f;
            d[3 * ds] = d12 + d34 * 8f + s[5 * ss];
        }
    }

    /// <summary>F(2×2, 3×3) Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].</summary>
    internal struct InputBt2 : ITransform1D
    {
        public static int In => 4;
        public static int Out => 4;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV x1 = s[ss], x2 = s[2 * ss];
            d[0] = s[0] - x2;
            d[ds] = x1 + x2;
            d[2 * ds] = x2 - x1;
            d[3 * ds] = x1 - s[3 * ss];
        }
    }

    /// <summary>F(2×2, 3×3) G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].</summary>
    internal struct FilterG2 : ITransform1D
    {
        public static int In => 3;
        public static int Out => 4;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV g0 = s[0], g1 = s[ss], g2 = s[2 * ss], even = g0 + g2;
            d[0] = g0;
            d[ds] = (even + g1) * 0.5f;
            d[2 * ds] = (even - g1) * 0.5f;
            d[3 * ds] = g2;
        }
    }

    /// <summary>F(2×2, 3×3) Aᵀ = [1 1 1 0; 0 1 −1 −1].</summary>
    internal struct OutputAt2 : ITransform1D
    {
        public static int In => 4;
        public static int Out => 2;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV m1 = s[ss], m2 = s[2 * ss];
            d[0] = s[0] + m1 + m2;
            d[ds] = m1 - m2 - s[3 * ss];
        }
    }

    /// <summary>F(4×4, 3×3) A = (Aᵀ)ᵀ, 4→6: the output transform's adjoint, which takes an output-gradient tile to ξ space.</summary>
    internal struct GradA : ITransform1D
    {
        public static int In => 4;
        public static int Out => 6;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV y0 = s[0], y1 = s[ss], y2 = s[2 * ss], y3 = s[3 * ss];
            TV e = y0 + y2, o = y1 + y3, e4 = y0 + y2 * 4f, o8 = y1 * 2f + y3 * 8f;
            d[0] = y0;
            d[ds] = e + o;
            d[2 * ds] = e - o;
            d[3 * ds] = e4 + o8;
            d[4 * ds] = e4 - o8;
            d[5 * ds] = y3;
        }
    }

    /// <summary>F(4×4, 3×3) Gᵀ, 6→3: the filter transform's adjoint, which takes a ξ-space weight gradient back to 3×3 taps.</summary>
    internal struct GradGt : ITransform1D
    {
        public static int In => 6;
        public static int Out => 3;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV m1 = s[ss], m2 = s[2 * ss], m3 = s[3 * ss], m4 = s[4 * ss];
            TV p12 = m1 + m2, p34 = m3 + m4;
            d[0] = s[0] * 0.25f - p12 * (1f / 6) + p34 * (1f / 24);
            d[ds] = (m2 - m1) * (1f / 6) + (m3 - m4) * (1f / 12);
            d[2 * ds] = (p34 - p12) * (1f / 6) + s[5 * ss];
        }
    }

    /// <summary>F(2×2, 3×3) A = [1 0; 1 1; 1 −1; 0 −1], 2→4 (the adjoint of <see cref="OutputAt2"/>).</summary>
    internal struct GradA2 : ITransform1D
    {
        public static int In => 2;
        public static int Out => 4;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV y0 = s[0], y1 = s[ss];
            d[0] = y0;
            d[ds] = y0 + y1;
            d[2 * ds] = y0 - y1;
            d[3 * ds] = y1 * -1f;
        }
    }

    /// <summary>F(2×2, 3×3) Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1], 4→3 (the adjoint of <see cref="FilterG2"/>).</summary>
    internal struct GradGt2 : ITransform1D
    {
        public static int In => 4;
        public static int Out => 3;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<TV>(TV* s, nint ss, TV* d, nint ds) where TV : unmanaged, ILanes<TV>
        {
            TV m1 = s[ss], m2 = s[2 * ss], half = (m1 + m2) * 0.5f;
            d[0] = s[0] + half;
            d[ds] = (m1 - m2) * 0.5f;
            d[2 * ds] = half + s[3 * ss];
        }
    }

    /// <summary>
    /// dst [Out, Out] = M · src [In, In] · Mᵀ through tmp [Out, In], all row-major; element e of src is src[e · ss] and of
    /// dst is dst[e · ds], so the phases read and write their workspaces in place instead of through a staging copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sandwich<TV, TM>(TV* src, nint ss, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> where TM : ITransform1D
    {
        int n = TM.In, m = TM.Out;
        for (int j = 0; j < n; j++) TM.Apply(src + j * ss, n * ss, tmp + j, n);
        for (int i = 0; i < m; i++) TM.Apply(tmp + i * n, 1, dst + i * m * ds, ds);
    }
}

/// <summary>
/// One Winograd F(m×m, 3×3) variant: its tile geometry (m×m outputs from α×α = (m + 2)×(m + 2) inputs at stride m),
/// its three transforms and how lane groups of tiles are read from and written to rows. <see cref="WinogradConv{TTile}"/>
/// is written once against this and instantiated for <see cref="F4x4"/> and <see cref="F2x2"/>.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>Output tile side m.</summary>
    static abstract int M { get; }

    /// <summary>Input tile side α = m + 2; α² GEMMs per call.</summary>
    static abstract int Alpha { get; }

    /// <summary>The α columns of TV.Count side-by-side input patches at stride m; reads row[0 .. m·Count + α).</summary>
    static abstract void LoadPatchRow<TV>(float* row, TV* cols) where TV : unmanaged, ILanes<TV>;

    /// <summary>The inverse for output tiles: row[m·l + j] = cols[j][l]; writes row[0 .. m·Count).</summary>
    static abstract void StoreTileRow<TV>(TV* cols, float* row) where TV : unmanaged, ILanes<TV>;

    /// <summary>dst = G g Gᵀ for a 3×3 filter src, dst element e at dst[e · ds]; tmp holds 3α lanes.</summary>
    static abstract void Filter<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV>;

    /// <summary>dst = Bᵀ d B for an α×α patch src, dst element e at dst[e · ds]; tmp holds α² lanes.</summary>
    static abstract void Input<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV>;

    /// <summary>dst [m, m] = Aᵀ M A for M element e at src[e · ss]; tmp holds mα lanes.</summary>
    static abstract void Output<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV>;

    /// <summary>dst [α, α] = A dy Aᵀ for an m×m output-gradient tile src, dst element e at dst[e · ds]; tmp holds αm lanes (the weight gradient's second operand).</summary>
    static abstract void GradTile<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV>;

    /// <summary>dst [3, 3] = Gᵀ M G for M element e at src[e · ss]; tmp holds 3α lanes (the weight gradient back from ξ space).</summary>
    static abstract void FilterGrad<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV>;

    /// <summary>Whether Auto picks this variant over im2col + GEMM for a geometry (the measurements are at each implementation).</summary>
    static abstract bool Wins(Conv2dParams p);
}

/// <summary>Winograd F(4×4, 3×3): 36 multiplies per 4×4 output tile and channel pair instead of 144.</summary>
internal unsafe partial struct F4x4 : IWinogradTile
{
    public static int M => 4;
    public static int Alpha => 6;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void LoadPatchRow<TV>(float* row, TV* cols) where TV : unmanaged, ILanes<TV> => TV.LoadStride4(row, cols);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreTileRow<TV>(TV* cols, float* row) where TV : unmanaged, ILanes<TV> => TV.StoreStride4(cols, row);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Filter<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.FilterG>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Input<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.InputBt>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Output<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.OutputAt>(src, ss, tmp, dst, 1);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void GradTile<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.GradA>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FilterGrad<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.GradGt>(src, ss, tmp, dst, 1);
}

/// <summary>Winograd F(2×2, 3×3): 16 multiplies per 2×2 output tile and channel pair instead of 36; coefficients 0, ±1, ±½ only.</summary>
internal unsafe partial struct F2x2 : IWinogradTile
{
    public static int M => 2;
    public static int Alpha => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void LoadPatchRow<TV>(float* row, TV* cols) where TV : unmanaged, ILanes<TV> => TV.LoadStride2(row, cols);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreTileRow<TV>(TV* cols, float* row) where TV : unmanaged, ILanes<TV> => TV.StoreStride2(cols, row);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Filter<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.FilterG2>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Input<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.InputBt2>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Output<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.OutputAt2>(src, ss, tmp, dst, 1);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void GradTile<TV>(TV* src, TV* tmp, TV* dst, nint ds) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.GradA2>(src, 1, tmp, dst, ds);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FilterGrad<TV>(TV* src, nint ss, TV* tmp, TV* dst) where TV : unmanaged, ILanes<TV> => WinogradTransforms.Sandwich<TV, WinogradTransforms.GradGt2>(src, ss, tmp, dst, 1);
}
