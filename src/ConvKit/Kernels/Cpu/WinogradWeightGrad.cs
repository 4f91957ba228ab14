using System.Buffers;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The Winograd weight gradient. The forward is Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A per tile, linear in the filter g, so its
/// adjoint gives dg = Gᵀ [(A dY Aᵀ) ⊙ (Bᵀ d B)] G, summed over tiles and images. With the sum over tiles moved inside
/// (it commutes with Gᵀ · G), that is:
///   inputs    V = Bᵀ d B, as in the forward, [α², CIn/g, T];
///   gradients Ŷ = A dY Aᵀ over the same m×m output tiles (zero outside the output), [α², COut/g, T];
///   products  M_ξ += Ŷ_ξ · V_ξᵀ, α² GEMMs [K, T]·[T, C] accumulated over blocks of tiles;
///   taps      dw[k, c] = Gᵀ M[k, c] G.
/// F(2×2) does 16 multiplies per 2×2 output tile and channel pair where im2col's weight gradient does 36, and its
/// coefficients (0, ±1, ±½) keep the float32 error near the direct sum's; F(4×4)'s (36 per 4×4 tile instead of 144)
/// grow with the sum over tiles, so only forced runs take it.
/// </summary>
internal static unsafe partial class WinogradConv<TTile> where TTile : IWinogradTile
{
    /// <summary>Fewest tiles per block: the GEMMs' k, long enough to amortise the M tiles each block reloads.</summary>
    private const int GradMinBlockTiles = 64;

    /// <summary>Most tiles per block: one K slice of the GEMM.</summary>
    private const int GradMaxBlockTiles = Gemm.KC;

    /// <summary>dw [COut, CIn/g, 3, 3] = the gradient of conv(x, w) with respect to w, given dy [N, COut, OutH, OutW].</summary>
    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p) =>
        WeightGrad(x, dy, dw, p, int.MaxValue);

    /// <summary>
    /// The weight gradient with at most <paramref name="maxBlockTiles"/> tiles per block and <paramref name="uBudget"/> floats
    /// of accumulated products per chunk of output channels, so tests cross block and chunk edges on small layers.
    /// </summary>
    internal static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p, int maxBlockTiles,
                                    long uBudget = UBudget)
    {
        if (dw.IsEmpty) return;
        if (Avx.IsSupported && !Gemm.ForceScalar) RunWeightGrad<Lanes8>(x, dy, dw, p, maxBlockTiles, uBudget);
        else RunWeightGrad<Lanes4>(x, dy, dw, p, maxBlockTiles, uBudget);
    }

    private static void RunWeightGrad<TV>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p, int maxBlockTiles,
                                          long uBudget) where TV : unmanaged, ILanes<TV>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, tilesW = TileCount(p.OutW), tiles = (int)Tiles(p);
        int ldu = Gemm.RoundUp(cig, TV.Count);
        // Output channels in chunks whose accumulated products M fit the transformed-filter budget, and blocks whose V and
        // Ŷ fit four times the forward's: a 1024 → 512 layer's M alone is 8 M floats, which the pool would keep.
        int kc = ChannelChunk(cog, ldu, uBudget);
        int budgetTiles = (int)Math.Clamp(4 * BlockBudget / (Xi * (long)(cig + kc)), GradMinBlockTiles, GradMaxBlockTiles);
        int tb = Math.Clamp(Math.Min(budgetTiles, tiles), 1, Math.Max(1, maxBlockTiles));
        int blocks = (tiles + tb - 1) / tb;
        var plan = new Plan
        {
            P = p, Cig = cig, GroupCog = cog, TilesW = tilesW, TilesPerImage = tilesW * TileCount(p.OutH), Tb = tb,
            Ld = Gemm.RoundUp(tb, TV.Count) + TV.Count, Ldu = ldu,
        };
        // U holds the accumulated products M [α², chunk, Ldu] here; M the transformed gradients Ŷ.
        (plan.UXi, plan.VXi, plan.MXi) = (XiStride((long)kc * plan.Ldu), XiStride((long)cig * plan.Ld), XiStride((long)kc * plan.Ld));
        var pool = ArrayPool<float>.Shared;
        float[] acc = pool.Rent((int)(Xi * plan.UXi)), v = pool.Rent((int)(Xi * plan.VXi)), yhat = pool.Rent((int)(Xi * plan.MXi));
        try
        {
            fixed (float* px = x, pdy = dy, pdw = dw, pacc = acc, pv = v, py = yhat)
            {
                plan.X = px; plan.Y = pdy; plan.Wt = pdw; plan.U = pacc;
                for (int g = 0; g < p.Groups; g++)
                for (int k0 = 0; k0 < cog; k0 += kc)
                {
                    plan.K0 = k0;
                    plan.Cog = Math.Min(kc, cog - k0);
                    for (int b = 0; b < blocks; b++)
                    {
                        int t0 = b * tb, count = Math.Min(tb, tiles - t0);
                        TransformInputs<TV>(plan, g, t0, count, pv);
                        TransformGradients<TV>(plan, g, t0, count, py);
                        AccumulateProducts(plan, count, pv, py, accumulate: b > 0);
                    }
                    GradientTaps<TV>(plan, g);
                }
            }
        }
        finally
        {
            pool.Return(acc);
            pool.Return(v);
            pool.Return(yhat);
        }
    }

    /// <summary>
    /// Ŷ[ξ, k, t − t0] = (A dy Aᵀ)[ξ] for the m×m output-gradient tile of tile t, lanes over the tiles of a group. A run's
    /// m gradient rows are first copied zero-padded into a row buffer (outputs past OutH or OutW are zero), so every
    /// group loads whole vectors.
    /// </summary>
    private static void TransformGradients<TV>(Plan pl, int g, int t0, int count, float* yhat) where TV : unmanaged, ILanes<TV>
    {
        var p = pl.P;
        int lanes = TV.Count, m = TTile.M, alpha = TTile.Alpha, rowLen = m * pl.TilesW + m * lanes + alpha;
        nint ys = (nint)yhat;
        Parallelism.For(pl.Cog, k =>
        {
            TV* cols = stackalloc TV[alpha];
            TV* src = stackalloc TV[m * m];
            TV* tmp = stackalloc TV[alpha * m];
            var rowArray = ArrayPool<float>.Shared.Rent(m * rowLen);
            fixed (float* rows = rowArray)
            {
                var runs = new Runs(pl, t0, count);
                while (runs.Next())
                {
                    float* plane = pl.Y + ((long)runs.N * p.COut + g * pl.GroupCog + pl.K0 + k) * p.OutPlane;
                    for (int r = 0; r < m; r++)
                    {
                        var row = new Span<float>(rows + r * rowLen, rowLen);
                        int oy = runs.Th * m + r, len = oy < p.OutH ? p.OutW : 0;
                        new ReadOnlySpan<float>(plane + (long)oy * p.OutW, len).CopyTo(row);
                        row.Slice(len).Clear();
                    }
                    for (int tw = runs.Tw0; tw < runs.Tw1; tw += lanes)
                    {
                        for (int r = 0; r < m; r++)
                        {
                            TTile.LoadPatchRow(rows + r * rowLen + tw * m, cols);
                            for (int j = 0; j < m; j++) src[r * m + j] = cols[j];
                        }
                        TTile.GradTile(src, tmp, (TV*)((float*)ys + (long)k * pl.Ld + runs.Col + tw - runs.Tw0), (nint)(pl.MXi / lanes));
                    }
                }
            }
            ArrayPool<float>.Shared.Return(rowArray);
        });
    }

    /// <summary>M_ξ [K, C] (+)= Ŷ_ξ [K, count] · V_ξ [C, count]ᵀ, one GEMM per parallel item.</summary>
    private static void AccumulateProducts(Plan pl, int count, float* v, float* yhat, bool accumulate)
    {
        nint vs = (nint)v, ys = (nint)yhat;
        Parallelism.For(Xi, xi => Gemm.Sgemm(false, true, pl.Cog, pl.Cig, count, (float*)ys + xi * pl.MXi, pl.Ld,
            (float*)vs + xi * pl.VXi, pl.Ld, pl.U + xi * pl.UXi, pl.Ldu, accumulate, Parallelism.Threads));
    }

    /// <summary>dw[k, c] = Gᵀ M[k, c] G for the group's filters, lanes over c.</summary>
    private static void GradientTaps<TV>(Plan pl, int g) where TV : unmanaged, ILanes<TV>
    {
        int lanes = TV.Count;
        Parallelism.For(pl.Cog, k =>
        {
            TV* tmp = stackalloc TV[3 * TTile.Alpha];
            TV* taps = stackalloc TV[9];
            float* tf = (float*)taps;
            float* filters = pl.Wt + (long)(g * pl.GroupCog + pl.K0 + k) * pl.Cig * 9;
            for (int c0 = 0; c0 < pl.Cig; c0 += lanes)
            {
                TTile.FilterGrad((TV*)(pl.U + (long)k * pl.Ldu + c0), (nint)(pl.UXi / lanes), tmp, taps);
                int valid = Math.Min(lanes, pl.Cig - c0);
                for (int l = 0; l < valid; l++)
                for (int tap = 0; tap < 9; tap++)
                    filters[(c0 + l) * 9 + tap] = tf[tap * lanes + l];
            }
        });
    }
}
