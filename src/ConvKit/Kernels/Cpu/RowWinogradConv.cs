using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// One-dimensional Winograd F(3, 4) along the rows of stride-2 convolutions with 5–8 filter columns: the 7×7/s2 stem of
/// ResNets. Split by the parity q of the filter column, each filter row is two stride-1 filters of at most 4 taps over
/// the even and the odd input columns (polyphase): out[ox] = Σ_q Σ_b w[2b + q] · R[2(ox + b) + q], R the padded input
/// row. Each of those 4-tap correlations runs as F(3, 4) (points 0, ±1, ±2, ∞; Bᵀ is F(4×4, 3×3)'s):
///   weights  U_ξ[o, (c, ky, q)] = (G g)[ξ] for the 4 taps g_b = w[o, c, ky, 2b + q] (zero past KW),
///   inputs   T_ξ[c, q, r, j] = (Bᵀ d)[ξ] for d_e = R_r[6j + 2e + q], once per padded input row r and tile j,
///   products M_ξ[o, (oy, j)] = Σ U_ξ[o, (c, ky, q)] · T_ξ[c, q, oy·sh + ky·dh, j]: six GEMMs of depth 2·C·KH,
///   outputs  out[o, oy, 3j + i] = (Aᵀ M)[i] + bias.
/// That is 6·2·C·KH multiplies per 3 outputs and output channel instead of 3·C·KH·KW: 84 instead of 147 per output on
/// the stem (1.75× fewer). The GEMMs read T through <see cref="RowWinogradPanel"/>, so the input rows shared by
/// neighbouring output rows (KH/sh of them) are transformed once. Output rows run in blocks whose six M matrices stay
/// in L2, one block per parallel item. Errors are those of a 1-D Winograd sum (coefficients up to 5 in Bᵀ and 4 in Aᵀ),
/// bounded in RowWinogradConvTests; Auto runs it for inference only, as F(4×4).
/// </summary>
internal static unsafe class RowWinogradConv
{
    private const int Xi = 6, Taps = 4, Out = 3;

    /// <summary>
    /// Whether Auto may pick it (<see cref="Wins"/>); off by default. On Zen 3 (512 KiB L2) it loses to im2col on the
    /// stem, N1 C3 224×224 K64 7×7/s2 (paired <c>--ab rowwino</c>, 2 threads: 0.77–0.88). On Zen 4 (1 MiB L2) paired
    /// A/B reads 1.04–1.18 in its favour, but across processes its time is bimodal, 1.1–1.2 ms or 1.9–2.1 ms (im2col:
    /// 1.18–1.26 ms in every process), both transforms ~3× slower in the slow processes. Which mode a process lands in
    /// depends on what ran before it and how the class was initialised: <c>--only "conv2d n1 c3"</c> was slow in eight of
    /// eight with the permutations of <see cref="Interleave3{TV}"/> as static readonly fields and fast in eight of eight
    /// with them as constants, but <c>--only "conv2d n1"</c> (F(4×4) layers first) was still slow in five of six. Not
    /// understood yet, so not a default. Settable for tests and paired measurements.
    /// </summary>
    internal static bool Enabled;

    /// <summary>Stride 2 and dilation 1 along W with 5–8 filter columns (each polyphase half then has at most 4 taps), one group.</summary>
    public static bool Applies(Conv2dParams p) => p.StrideW == 2 && p.DilationW == 1 && p.KW is >= 5 and <= 8 && p.Groups == 1 && p.OutW >= 1;

    /// <summary>
    /// Whether Auto picks it over im2col + GEMM for an inference forward: only when <see cref="Enabled"/>, and then on
    /// stem-like layers (few input channels, where im2col's GEMM is already near the FMA peak and only fewer multiplies help).
    /// </summary>
    public static bool Wins(Conv2dParams p) => Enabled && Applies(p) && p.CIn <= 4 && p.OutW >= 24;

    /// <summary>y [N, COut, OutH, OutW] = conv(x [N, CIn, H, W], w [COut, CIn, KH, KW]) + bias [COut] (or none), then <paramref name="map"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, ConvEpilogue map = default)
    {
        if (y.IsEmpty) return;
        if (!Applies(p)) throw new InvalidOperationException($"internal: row Winograd needs stride 2, dilation 1 and 5–8 columns along W, one group; got {p}");
        var geo = new Geometry(p);
        var isa = Gemm.Isa;
        long packedU = Gemm.PackedAFloats(p.COut, geo.K, isa);
        if (Xi * Math.Max(geo.XiT, packedU) > Array.MaxLength || (long)Out * geo.Twp > 1 << 14)
        {
            // Planes or filters too large for the pooled T and U or the stack rows: im2col's arithmetic instead.
            Im2ColGemmConv.Forward(x, w, bias, y, p, map);
            return;
        }
        var pool = ArrayPool<float>.Shared;
        float[] u = pool.Rent((int)(Xi * packedU)), t = pool.Rent((int)(Xi * geo.XiT));
        int[] koff = ArrayPool<int>.Shared.Rent(geo.K);
        try
        {
            fixed (float* px = x, pw = w, pb = bias, py = y, pu = u, pt = t, sc = map.Scale, sh = map.Shift)
            fixed (int* pk = koff)
            {
                TransformWeights(pw, p, geo, pu, packedU, isa);
                for (int c = 0; c < p.CIn; c++)
                for (int ky = 0; ky < p.KH; ky++)
                for (int q = 0; q < 2; q++)
                    pk[(c * p.KH + ky) * 2 + q] = ((c * 2 + q) * geo.Rows + ky * p.DilationH) * geo.Twp;
                var job = new Job
                {
                    P = p, G = geo, X = px, B = pb, Y = py, U = pu, PackedU = packedU, Isa = isa, T = pt, KOff = pk,
                    Map = new GemmEpilogue(null, sc, sh, map.Relu),
                };
                for (int n = 0; n < p.N; n++)
                {
                    job.Image = n;
                    Parallelism.For(p.CIn * geo.Rows, job.TransformRow);
                    Parallelism.For(geo.Blocks, job.RunBlock);
                }
            }
        }
        finally
        {
            pool.Return(u);
            pool.Return(t);
            ArrayPool<int>.Shared.Return(koff);
        }
    }

    /// <summary>The sizes shared by the phases.</summary>
    private readonly struct Geometry
    {
        /// <summary>Tiles per output row (3 outputs each), that rounded up to whole 8-lane groups, padded input rows read, GEMM depth.</summary>
        public readonly int Tw, Twp, Rows, K;
        /// <summary>Output rows per block, blocks per image.</summary>
        public readonly int BlockRows, Blocks;
        /// <summary>Floats of one ξ plane of T.</summary>
        public readonly long XiT;

        public Geometry(Conv2dParams p)
        {
            Tw = (p.OutW + Out - 1) / Out;
            Twp = Gemm.RoundUp(Tw, 8);
            Rows = (p.OutH - 1) * p.StrideH + (p.KH - 1) * p.DilationH + 1;
            K = 2 * p.CIn * p.KH;
            XiT = (long)p.CIn * 2 * Rows * Twp;
            // Six M blocks of about 512 KiB (one core's L2), at least 4 blocks per thread where the plane allows.
            int rows = Math.Max(1, (1 << 17) / (Xi * p.COut * Tw));
            rows = Math.Min(rows, Math.Max(1, (p.OutH + 4 * Parallelism.Threads - 1) / (4 * Parallelism.Threads)));
            BlockRows = rows;
            Blocks = (p.OutH + rows - 1) / rows;
        }
    }

    /// <summary>U_ξ [COut, (c, ky, q)] = (G g)[ξ], each packed whole into the GEMM's A slivers.</summary>
    private static void TransformWeights(float* w, Conv2dParams p, Geometry geo, float* packed, long packedStride, GemmIsa isa)
    {
        // Pooled like T: only the first 6·COut·K floats are used, each written below.
        var rowMajor = ArrayPool<float>.Shared.Rent(Xi * p.COut * geo.K);
        for (int o = 0; o < p.COut; o++)
        for (int c = 0; c < p.CIn; c++)
        for (int ky = 0; ky < p.KH; ky++)
        for (int q = 0; q < 2; q++)
        {
            float* row = w + (((long)o * p.CIn + c) * p.KH + ky) * p.KW;
            float g0 = Tap(row, p.KW, q), g1 = Tap(row, p.KW, 2 + q), g2 = Tap(row, p.KW, 4 + q), g3 = Tap(row, p.KW, 6 + q);
            // G of F(3, 4): rows ¼[1 0 0 0], −⅙[1 1 1 1], −⅙[1 −1 1 −1], [1/24 1/12 1/6 1/3], [1/24 −1/12 1/6 −1/3], [0 0 0 1].
            float even = g0 + g2, odd = g1 + g3, lo = g0 * (1f / 24) + g2 * (1f / 6), hi = g1 * (1f / 12) + g3 * (1f / 3);
            int k = (c * p.KH + ky) * 2 + q;
            long at = (long)o * geo.K + k, xi = (long)p.COut * geo.K;
            rowMajor[at] = g0 * 0.25f;
            rowMajor[xi + at] = (even + odd) * (-1f / 6);
            rowMajor[2 * xi + at] = (even - odd) * (-1f / 6);
            rowMajor[3 * xi + at] = lo + hi;
            rowMajor[4 * xi + at] = lo - hi;
            rowMajor[5 * xi + at] = g3;
        }
        fixed (float* rm = rowMajor)
            for (int xi = 0; xi < Xi; xi++)
                Gemm.PackWholeA(rm + (long)xi * p.COut * geo.K, geo.K, p.COut, geo.K, isa, packed + xi * packedStride);
        ArrayPool<float>.Shared.Return(rowMajor);
    }

    private static float Tap(float* row, int kw, int kx) => kx < kw ? row[kx] : 0f;

    private sealed class Job
    {
        public Conv2dParams P = null!;
        public Geometry G;
        public float* X, B, Y, U, T;
        public int* KOff;
        public long PackedU;
        public GemmIsa Isa;
        public GemmEpilogue Map;
        public int Image;

        /// <summary>T_ξ[c, q, r, ·] for item c·Rows + r: the padded input row r of channel c, both parities, all tiles.</summary>
        public void TransformRow(int item)
        {
            if (Avx2.IsSupported && !Gemm.ForceScalar) TransformRow<Lanes8>(item);
            else TransformRow<Lanes4>(item);
        }

        private void TransformRow<TV>(int item) where TV : unmanaged, ILanes<TV>
        {
            var p = P;
            int c = item / G.Rows, r = item - c * G.Rows, iy = r - p.PadTop, len = 6 * G.Twp + 8, lanes = TV.Count;
            float* row = stackalloc float[len];
            TV* src = stackalloc TV[Xi];
            new Span<float>(row, len).Clear();
            if ((uint)iy < (uint)p.H)
            {
                // row[s] = x[iy, s − PadLeft] for s inside the row.
                int s0 = Math.Max(0, p.PadLeft), x0 = Math.Max(0, -p.PadLeft), n = Math.Min(p.W - x0, len - s0);
                if (n > 0) new ReadOnlySpan<float>(X + (((long)Image * p.CIn + c) * p.H + iy) * p.W + x0, n).CopyTo(new Span<float>(row + s0, n));
            }
            for (int q = 0; q < 2; q++)
            {
                float* plane = T + ((long)(c * 2 + q) * G.Rows + r) * G.Twp;
                for (int j0 = 0; j0 < G.Twp; j0 += lanes)
                {
                    // d_e for the lanes' tiles j0 + l: row[6(j0 + l) + 2e + q].
                    // Straight into the six planes (XiT is a multiple of the lanes): no spill of the results to the stack.
                    TV.LoadStride6Even(row + 6 * j0 + q, src);
                    WinogradTransforms.InputBt.Apply(src, 1, (TV*)(plane + j0), (nint)(G.XiT / lanes));
                }
            }
        }

        /// <summary>Output rows [b·BlockRows, …) of the image: the six GEMMs into pooled M, then the output transform.</summary>
        public void RunBlock(int b)
        {
            var p = P;
            int y0 = b * G.BlockRows, rows = Math.Min(G.BlockRows, p.OutH - y0), n = rows * G.Tw, ldm = Gemm.RoundUp(n, 8) + 8;
            long mXi = (long)p.COut * ldm;
            var pool = ArrayPool<float>.Shared;
            float[] m = pool.Rent((int)(Xi * mXi));
            try
            {
                fixed (float* pm = m)
                {
                    for (int xi = 0; xi < Xi; xi++)
                        Gemm.Sgemm(U + xi * PackedU, Isa, p.COut, n, G.K, new RowWinogradPanel(T + xi * G.XiT, KOff, G.Tw, G.Twp, p.StrideH, y0),
                                   pm + xi * mXi, ldm, false, 1);
                    if (Avx2.IsSupported && !Gemm.ForceScalar) TransformOutputs<Lanes8>(pm, mXi, ldm, y0, rows);
                    else TransformOutputs<Lanes4>(pm, mXi, ldm, y0, rows);
                }
            }
            finally
            {
                pool.Return(m);
            }
        }

        /// <summary>out[o, oy, 3j + i] = (Aᵀ M[·, o, (oy, j)])[i] + bias, with whole-vector stores (the row's last tiles through a buffer).</summary>
        private void TransformOutputs<TV>(float* m, long mXi, int ldm, int y0, int rows) where TV : unmanaged, ILanes<TV>
        {
            var p = P;
            int lanes = TV.Count;
            float* line = stackalloc float[Out * G.Twp + 3 * lanes];
            for (int o = 0; o < p.COut; o++)
            {
                var bias = TV.Broadcast(B == null ? 0f : B[o]);
                var map = Map.Rows(o);
                for (int r = 0; r < rows; r++)
                {
                    float* mo = m + (long)o * ldm + r * G.Tw;
                    float* outp = Y + (((long)Image * p.COut + o) * p.OutH + y0 + r) * p.OutW;
                    for (int j0 = 0; j0 < G.Tw; j0 += lanes)
                    {
                        TV m0 = TV.Load(mo + j0), m1 = TV.Load(mo + mXi + j0), m2 = TV.Load(mo + 2 * mXi + j0);
                        TV m3 = TV.Load(mo + 3 * mXi + j0), m4 = TV.Load(mo + 4 * mXi + j0), m5 = TV.Load(mo + 5 * mXi + j0);
                        // Aᵀ of F(3, 4): [1 1 1 1 1 0], [0 1 −1 2 −2 0], [0 1 1 4 4 1].
                        TV p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
                        TV v0 = m0 + p12 + p34 + bias, v1 = d12 + d34 * 2f + bias, v2 = p12 + p34 * 4f + m5 + bias;
                        // Whole vectors straight into the output row while they fit; the row's last tiles through the buffer.
                        Interleave3(v0, v1, v2, Out * (j0 + lanes) <= p.OutW ? outp + Out * j0 : line + Out * j0);
                    }
                    int direct = Out * (p.OutW / (Out * lanes) * lanes);
                    new ReadOnlySpan<float>(line + direct, p.OutW - direct).CopyTo(new Span<float>(outp + direct, p.OutW - direct));
                    if (map.HasMap) map.Map(outp, p.OutW, 1, p.OutW);
                }
            }
        }
    }

    /// <summary>
    /// dst[3l + i] = y_i[l]: the three outputs of each lane's tile side by side (AVX2: permutes and blends on the
    /// vectors as passed, with no spill to the stack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave3<TV>(TV y0, TV y1, TV y2, float* dst) where TV : unmanaged, ILanes<TV>
    {
        if (typeof(TV) == typeof(Lanes8))
        {
            Vector256<float> a = Unsafe.As<TV, Vector256<float>>(ref y0), b = Unsafe.As<TV, Vector256<float>>(ref y1), c = Unsafe.As<TV, Vector256<float>>(ref y2);
            // Lane k of output vector v is tile (8v + k) / 3's output (8v + k) mod 3: blend masks pick a, b or c by that residue.
            // The permutations are constants, not static readonly fields, which this loop may read through the class's
            // static base when the JIT compiles it before the static constructor has run (see Enabled).
            Avx.Store(dst, Pick(a, b, c, Vector256.Create(0, 0, 0, 1, 1, 1, 2, 2), 0b10010010, 0b00100100));
            Avx.Store(dst + 8, Pick(a, b, c, Vector256.Create(2, 3, 3, 3, 4, 4, 4, 5), 0b00100100, 0b01001001));
            Avx.Store(dst + 16, Pick(a, b, c, Vector256.Create(5, 5, 6, 6, 6, 7, 7, 7), 0b01001001, 0b10010010));
            return;
        }
        int lanes = TV.Count;
        float* s = stackalloc float[Out * lanes];
        y0.Store(s);
        y1.Store(s + lanes);
        y2.Store(s + 2 * lanes);
        for (int l = 0; l < lanes; l++)
        for (int i = 0; i < Out; i++)
            dst[Out * l + i] = s[i * lanes + l];
    }

    private static Vector256<float> Pick(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<int> idx, byte fromB, byte fromC) =>
        Avx.Blend(Avx.Blend(Avx2.PermuteVar8x32(a, idx), Avx2.PermuteVar8x32(b, idx), fromB), Avx2.PermuteVar8x32(c, idx), fromC);
}

/// <summary>
/// The B operand of a row-Winograd GEMM: B[(c, ky, q), (oy − y0)·Tw + j] = T_ξ[KOff[(c, ky, q)] + oy·sh·Twp + j], so an
/// input row's transform serves every output row that reads it.
/// </summary>
internal readonly unsafe struct RowWinogradPanel(float* t, int* koff, int tw, int twp, int strideH, int y0) : IPanelB
{
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();

    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        int* off = stackalloc int[Gemm.NR];
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr);
            for (int l = 0; l < nr; l++)
            {
                int col = j0 + jr + l, oy = col / tw, j = col - oy * tw;
                off[l] = (y0 + oy) * strideH * twp + j;
            }
            // A sliver's columns are one run of an output row's tiles, or (Tw ≥ 16) the end of one row and the start of
            // the next: two masked loads per vector then, instead of an element-wise gather.
            int first = Math.Min(nr, tw - (j0 + jr) % tw);
            if (simd && nr - first <= tw) PackRuns(k0, kc, off[0], first < nr ? off[first] - first : off[0], first, nr, dst);
            else
                for (int k = 0; k < kc; k++)
                {
                    float* src = t + koff[k0 + k], d = dst + k * Gemm.NR;
                    for (int l = 0; l < nr; l++) d[l] = src[off[l]];
                    for (int l = nr; l < Gemm.NR; l++) d[l] = 0f;
                }
        }
    }

    /// <summary>Sliver columns l &lt; first from T at a + l, first ≤ l &lt; nr at b + l, the rest 0 (AVX2).</summary>
    private void PackRuns(int k0, int kc, int a, int b, int first, int nr, float* dst)
    {
        var lo = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var hi = lo + Vector256.Create(8);
        Vector256<int> f = Vector256.Create(first), e = Vector256.Create(nr);
        // Lane masks: column < first (first run), first ≤ column < nr (second run).
        Vector256<float> a0 = Avx2.CompareGreaterThan(f, lo).AsSingle(), a1 = Avx2.CompareGreaterThan(f, hi).AsSingle();
        Vector256<float> b0 = Avx.AndNot(a0, Avx2.CompareGreaterThan(e, lo).AsSingle()), b1 = Avx.AndNot(a1, Avx2.CompareGreaterThan(e, hi).AsSingle());
        bool whole = first == Gemm.NR;
        for (int k = 0; k < kc; k++)
        {
            float* src = t + koff[k0 + k], d = dst + k * Gemm.NR;
            if (whole)
            {
                Avx.Store(d, Avx.LoadVector256(src + a));
                Avx.Store(d + 8, Avx.LoadVector256(src + a + 8));
                continue;
            }
            Avx.Store(d, Avx.Or(Avx.MaskLoad(src + a, a0), Avx.MaskLoad(src + b, b0)));
            Avx.Store(d + 8, Avx.Or(Avx.MaskLoad(src + a + 8, a1), Avx.MaskLoad(src + b + 8, b1)));
        }
    }
}
