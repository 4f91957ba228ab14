using System.Buffers;
using System.Runtime.Intrinsics.X86;
using static ConvKit.Kernels.Cpu.WinogradTransforms;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Winograd F(4×4, 3×3) convolution for 3×3, stride-1, dilation-1 layers (A. Lavin and S. Gray, "Fast Algorithms
/// for Convolutional Neural Networks", CVPR 2016; points 0, ±1, ±2, ∞). Each 4×4 output tile is computed from a
/// 6×6 input tile with 36 multiplies per channel pair instead of 144:
///   weights  U = G g Gᵀ, laid out [36, COut/g, CIn/g] so each of the 36 positions ξ is a [K, C] matrix,
///   inputs   V = Bᵀ d B over 6×6 tiles at stride 4 (zero outside the image), laid out [36, CIn/g, T],
///   products M_ξ = U_ξ · V_ξ, 36 GEMMs [K, C]·[C, T] on the packed <see cref="Gemm"/>,
///   outputs  Y = Aᵀ M A + bias, only the valid part of edge tiles written.
/// T runs over the tiles of all images (so small planes still give wide GEMMs) in blocks sized to keep V and M
/// in cache between the phases. Each phase is one parallel loop (transforms over channels × tile groups, the 36
/// GEMMs one per item, single-threaded inside), so nothing nests. The transforms run on 8 tiles at a time
/// (<see cref="Lanes8"/>, AVX) or 4 (<see cref="Lanes4"/>, portable, also taken under <see cref="Gemm.ForceScalar"/>).
/// When it wins: 2.25× fewer GEMM flops than im2col, at the cost of transforms linear in C·T and K·T and a weight
/// transform linear in K·C; so it needs enough channels (≳ 16) for the GEMMs to dominate and enough tiles per
/// weight (T ≳ 4 × 4-tile count) — see ConvKernels.Choose for the measured rule. Float32 error is a few times that
/// of direct summation (the transforms' constants reach 8 and 1/24); the tests bound it.
/// </summary>
internal static unsafe class WinogradConv
{
    private const int Xi = 36;

    /// <summary>Floats of V + M per tile block (8 MiB): wide GEMMs, yet V and M stay in L3 between phases.</summary>
    private const long BlockBudget = 1L << 21;

    /// <summary>Lane groups one parallel item of a transform handles: amortises the scheduling per item.</summary>
    private const int GroupsPerItem = 8;

    public static bool Applies(Conv2dParams p) =>
        p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 && p.DilationH == 1 && p.DilationW == 1;

    /// <summary>Whether Auto should pick Winograd over im2col + GEMM (measured on a 2-core Zen 3 VM, see the header).</summary>
    public static bool Wins(Conv2dParams p) =>
        Applies(p) && p.CInPerGroup >= 16 && p.COutPerGroup >= 16 && Tiles(p) >= 64;

    /// <summary>
    /// x [N, CIn, H, W] = convᵀ(y [N, COut, OutH, OutW]) + bias [CIn]: for stride 1 this is a forward 3×3 convolution
    /// of y with the flipped, channel-swapped weights and padding 2 − pad, which runs here when that padding is
    /// non-negative; otherwise im2col's adjoint.
    /// </summary>
    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        if (Im2ColGemmConv.FlippedForward(p) is { } flipped && Applies(flipped))
            Forward(y, Im2ColGemmConv.FlipWeight(w, p), bias, x, flipped);
        else
            Im2ColGemmConv.Adjoint(y, w, bias, x, p);
    }

    /// <summary>Output tiles per group: N · ⌈OutH/4⌉ · ⌈OutW/4⌉.</summary>
    public static long Tiles(Conv2dParams p) => (long)p.N * ((p.OutH + 3) / 4) * ((p.OutW + 3) / 4);

    /// <summary>y [N, COut, OutH, OutW] = conv(x [N, CIn, H, W], w [COut, CIn/g, 3, 3]) + bias [COut] (or none).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p) =>
        Forward(x, w, bias, y, p, int.MaxValue);

    /// <summary><see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Conv2dParams)"/> with at most <paramref name="maxBlockTiles"/> (≥ 16) tiles per block, so tests can cross block edges on small layers.</summary>
    internal static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, int maxBlockTiles)
    {
        if (y.IsEmpty) return;
        if (Avx.IsSupported && !Gemm.ForceScalar) Run<Lanes8>(x, w, bias, y, p, maxBlockTiles);
        else Run<Lanes4>(x, w, bias, y, p, maxBlockTiles);
    }

    /// <summary>The geometry of one call and its pinned operands, shared by the phases.</summary>
    private sealed class Plan
    {
        public required Conv2dParams P;
        public int Cig, Cog, TilesW, TilesPerImage, Tb, Ldu;
        public float* X, Wt, Bias, Y, U, V, M;

        public (int N, int Oy, int Ox) TileAt(int t)
        {
            int n = t / TilesPerImage, r = t - n * TilesPerImage, th = r / TilesW;
            return (n, th * 4, (r - th * TilesW) * 4);
        }
    }

    private static void Run<TV>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, int maxBlockTiles)
        where TV : unmanaged, ILanes<TV>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, tilesW = (p.OutW + 3) / 4;
        int tiles = (int)Tiles(p);
        // Block width: a multiple of the GEMM's 16-column micro-tile, at least 64 columns so the GEMMs stay efficient.
        int tb = (int)Math.Clamp(BlockBudget / (Xi * (long)(cig + cog)), 64, 1 << 16) / 16 * 16;
        tb = Math.Min(Math.Min(tb, maxBlockTiles / 16 * 16), (tiles + 15) / 16 * 16);
        var plan = new Plan
        {
            P = p, Cig = cig, Cog = cog, TilesW = tilesW, TilesPerImage = tilesW * ((p.OutH + 3) / 4), Tb = tb,
            Ldu = (cig + 7) / 8 * 8,
        };
        var pool = ArrayPool<float>.Shared;
        float[] u = pool.Rent(Xi * cog * plan.Ldu), v = pool.Rent(Xi * cig * tb), m = pool.Rent(Xi * cog * tb);
        try
        {
            fixed (float* px = x, pw = w, pb = bias, py = y, pu = u, pv = v, pm = m)
            {
                plan.X = px; plan.Wt = pw; plan.Bias = pb; plan.Y = py; plan.U = pu; plan.V = pv; plan.M = pm;
                for (int g = 0; g < p.Groups; g++)
                {
                    TransformWeights<TV>(plan, g);
                    for (int t0 = 0; t0 < tiles; t0 += tb)
                    {
                        int count = Math.Min(tb, tiles - t0);
                        TransformInputs<TV>(plan, g, t0, count);
                        Multiply(plan, count);
                        TransformOutputs<TV>(plan, g, t0, count);
                    }
                }
            }
        }
        finally
        {
            pool.Return(u);
            pool.Return(v);
            pool.Return(m);
        }
    }

    /// <summary>U[ξ, k, c] = (G w[k, c] Gᵀ)[ξ] for the group's filters, lanes over c; rows padded to Ldu so every store is whole.</summary>
    private static void TransformWeights<TV>(Plan pl, int g) where TV : unmanaged, ILanes<TV>
    {
        int lanes = TV.Count;
        Parallelism.For(pl.Cog, k =>
        {
            TV* src = stackalloc TV[9];
            TV* tmp = stackalloc TV[18];
            TV* dst = stackalloc TV[Xi];
            float* sf = (float*)src;
            float* filters = pl.Wt + (long)(g * pl.Cog + k) * pl.Cig * 9;
            for (int c0 = 0; c0 < pl.Cig; c0 += lanes)
            {
                for (int l = 0; l < lanes; l++)
                for (int tap = 0; tap < 9; tap++)
                    sf[tap * lanes + l] = c0 + l < pl.Cig ? filters[(c0 + l) * 9 + tap] : 0f;
                Sandwich<TV, FilterG>(src, tmp, dst);
                for (int xi = 0; xi < Xi; xi++) dst[xi].Store(pl.U + ((long)xi * pl.Cog + k) * pl.Ldu + c0);
            }
        });
    }

    /// <summary>V[ξ, c, t − t0] = (Bᵀ d B)[ξ] for the 6×6 input patch d of tile t, lanes over tiles.</summary>
    private static void TransformInputs<TV>(Plan pl, int g, int t0, int count) where TV : unmanaged, ILanes<TV>
    {
        var p = pl.P;
        int lanes = TV.Count, laneGroups = (count + lanes - 1) / lanes, chunks = (laneGroups + GroupsPerItem - 1) / GroupsPerItem;
        Parallelism.For(pl.Cig * chunks, item =>
        {
            int c = item / chunks, first = (item - c * chunks) * GroupsPerItem;
            TV* src = stackalloc TV[Xi];
            TV* tmp = stackalloc TV[Xi];
            TV* dst = stackalloc TV[Xi];
            float* sf = (float*)src;
            for (int lg = first; lg < Math.Min(laneGroups, first + GroupsPerItem); lg++)
            {
                for (int l = 0; l < lanes; l++)
                {
                    int t = lg * lanes + l;
                    if (t >= count) { for (int e = 0; e < Xi; e++) sf[e * lanes + l] = 0f; continue; }
                    var (n, oy, ox) = pl.TileAt(t0 + t);
                    float* plane = pl.X + ((long)n * p.CIn + g * pl.Cig + c) * p.InPlane;
                    Gather(plane, p.H, p.W, oy - p.PadTop, ox - p.PadLeft, sf + l, lanes);
                }
                Sandwich<TV, InputBt>(src, tmp, dst);
                float* v = pl.V + (long)c * pl.Tb + lg * lanes;
                for (int xi = 0; xi < Xi; xi++) dst[xi].Store(v + (long)xi * pl.Cig * pl.Tb);
            }
        });
    }

    /// <summary>The 6×6 patch with top-left (iy, ix) of an [H, W] plane into d[e · stride], zero outside the plane.</summary>
    private static void Gather(float* plane, int h, int w, int iy, int ix, float* d, int stride)
    {
        if (iy >= 0 && iy + 6 <= h && ix >= 0 && ix + 6 <= w)
        {
            float* r = plane + (long)iy * w + ix;
            for (int i = 0; i < 6; i++, r += w)
            for (int j = 0; j < 6; j++)
                d[(i * 6 + j) * stride] = r[j];
            return;
        }
        for (int i = 0; i < 6; i++)
        {
            int yy = iy + i;
            bool rowIn = yy >= 0 && yy < h;
            for (int j = 0; j < 6; j++)
            {
                int xx = ix + j;
                d[(i * 6 + j) * stride] = rowIn && xx >= 0 && xx < w ? plane[(long)yy * w + xx] : 0f;
            }
        }
    }

    /// <summary>M_ξ [K, count] = U_ξ [K, C] · V_ξ [C, count], one GEMM per parallel item.</summary>
    private static void Multiply(Plan pl, int count)
    {
        Parallelism.For(Xi, xi => Gemm.Sgemm(false, false, pl.Cog, count, pl.Cig,
            pl.U + (long)xi * pl.Cog * pl.Ldu, pl.Ldu, pl.V + (long)xi * pl.Cig * pl.Tb, pl.Tb,
            pl.M + (long)xi * pl.Cog * pl.Tb, pl.Tb, false, Parallelism.Threads));
    }

    /// <summary>y tile = Aᵀ M A + bias for output channel k of the group, lanes over tiles, valid part only.</summary>
    private static void TransformOutputs<TV>(Plan pl, int g, int t0, int count) where TV : unmanaged, ILanes<TV>
    {
        var p = pl.P;
        int lanes = TV.Count, laneGroups = (count + lanes - 1) / lanes, chunks = (laneGroups + GroupsPerItem - 1) / GroupsPerItem;
        Parallelism.For(pl.Cog * chunks, item =>
        {
            int k = item / chunks, first = (item - k * chunks) * GroupsPerItem, co = g * pl.Cog + k;
            float b = pl.Bias == null ? 0f : pl.Bias[co];
            TV* src = stackalloc TV[Xi];
            TV* tmp = stackalloc TV[24];
            TV* dst = stackalloc TV[16];
            float* df = (float*)dst;
            for (int lg = first; lg < Math.Min(laneGroups, first + GroupsPerItem); lg++)
            {
                float* m = pl.M + (long)k * pl.Tb + lg * lanes;
                for (int xi = 0; xi < Xi; xi++) src[xi] = TV.Load(m + (long)xi * pl.Cog * pl.Tb);
                Sandwich<TV, OutputAt>(src, tmp, dst);
                for (int l = 0; l < Math.Min(lanes, count - lg * lanes); l++)
                {
                    var (n, oy, ox) = pl.TileAt(t0 + lg * lanes + l);
                    float* outp = pl.Y + ((long)n * p.COut + co) * p.OutPlane + (long)oy * p.OutW + ox;
                    int rows = Math.Min(4, p.OutH - oy), cols = Math.Min(4, p.OutW - ox);
                    for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        outp[r * p.OutW + c] = df[(r * 4 + c) * lanes + l] + b;
                }
            }
        });
    }
}
