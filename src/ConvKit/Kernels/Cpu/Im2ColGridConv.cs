namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The implicit GEMM of a stride-1 convolution on a padded grid, for GEMMs of few rows (at most 64 output channels per
/// group) on narrow planes, where packing the im2col slivers cost more than the multiply-adds they feed (N64 C32
/// 14×14's data gradient, a 32-row GEMM: 46 % of its samples in <c>Im2ColPanel.PackShifted</c> against 27 % in the
/// micro-kernel). The image is staged zero-padded (<see cref="StagedImages"/>, one pass), and the GEMM's columns run
/// over the padded width: column j = oh·Wp + ow for ow &lt; Wp = OutW + (KW − 1)·DW, so every row of B, tap (c, kh,
/// kw), is one contiguous run of the staged data at a per-row offset, and the AVX-512 micro-kernel reads its 32-column
/// pairs in place (<see cref="IPanelB.RowsInPlace"/>); only single slivers are copied. The AVX2 path copies each sliver
/// (two loads and two stores per row, no masks), the cheap part of what <c>PackShifted</c> did. The Wp − OutW columns past each
/// output row are computed and dropped when the result is copied into y (14 % more multiply-adds at 14×14).
/// Every output is the same FMA chain as on the packed path, so both give the same bits (tested).
/// </summary>
internal static unsafe partial class Im2ColGemmConv
{
    /// <summary>False keeps every layer on the packed panels, for paired A/B measurements. Default true.</summary>
    internal static bool GridForwards = true;

    /// <summary>Whether the forward (and the flipped-forward data gradient) of <paramref name="p"/> runs on the padded grid.</summary>
    /// <remarks>Paired A/B against the packed panels (2 threads, forward / flipped-forward data gradient): N64 C32 14×14 → 64
    /// 1.23 / 1.39; where the padding columns are a larger share or the panel is short it lost: 7×7 planes (Wp 9 for 7:
    /// N64 C64 → 128 data gradient 0.72), N64 C1 28×28 → 32 (k = 9: 0.47); so at most a sixth of the grid is padding
    /// and B has at least four slivers' worth of rows. N64 C16 28×28 → 32: 1.23 / 1.73; N2 C32 24×24 → 64: 1.00 / 1.19. A
    /// single image lost to the copies around its small GEMM (N1 C64 14×14: 0.76 / 0.85), so there must be an image
    /// per thread; and rows a whole number of slivers wide are already plain loads on the packed path (N16 C64 16×16
    /// → 32: 1.00 / 0.97). On AVX2 (Zen 3, 2 threads, paired): the N64 C32 14×14 → 64 training layer 1.11 (forward
    /// 5.6 → 4.4 ms, data gradient 7.1 → 5.8 ms); N64 C16 28×28 → 32 0.99, N64 C1 28×28 1.02, N64 C64 7×7 (not taken) 1.00.</remarks>
    internal static bool UsesGrid(Conv2dParams p) =>
        GridForwards && (Gemm.Isa == GemmIsa.Avx512 && Gemm.WideTile || Gemm.Isa == GemmIsa.Avx2) && p.StrideH == 1 && p.StrideW == 1 && !IsPointwise(p)
        && p.COutPerGroup <= Gemm.InPlaceBMaxRows && p.OutW < StagedMinOutW && p.OutW % Gemm.NR != 0 && p.N >= Parallelism.Threads
        && p.ColRows >= 4 * Gemm.NR
        && (p.KW - 1) * p.DilationW * 6 <= p.OutW && (p.KW - 1) * p.DilationW < StagedImages.Margin;

    /// <summary>y [COut/g, OutH·OutW] = W_g [COut/g, CIn/g·KH·KW] · col of the one image at x, on the padded grid (see the class summary).</summary>
    private static void GridGemm(WeightsA w, float* x, float* y, Conv2dParams p, int threads, GemmEpilogue ep)
    {
        int rows = p.ColRows, cog = p.COutPerGroup, plane = p.OutPlane;
        if (!StagedCopy.TryStage(x, 0, 1, p.CInPerGroup, p, out var copy))
            throw new InvalidOperationException($"internal: a {p} image is too large to stage");
        using (copy)
        {
            int wp = copy.Images.RowStride, n = p.OutH * wp;
            var grid = TensorPool.Rent<float>(cog * n, zero: false);
            try
            {
                fixed (float* pg = grid)
                {
                    w.Multiply(cog, n, rows, new GridPanel(copy.Images), pg, n, threads, ep);
                    for (int co = 0; co < cog; co++)
                    for (int oh = 0; oh < p.OutH; oh++)
                        new ReadOnlySpan<float>(pg + (long)co * n + oh * wp, p.OutW).CopyTo(new Span<float>(y + (long)co * plane + oh * p.OutW, p.OutW));
                }
            }
            finally { TensorPool.Return(grid); }
        }
    }
}

/// <summary>
/// B of <see cref="Im2ColGemmConv"/>'s padded-grid GEMM: row r = tap (c, kh, kw) of one staged image, column j = oh·Wp + ow,
/// B[r, j] = S[RowOffset(r) + j] (<see cref="StagedImages"/> at stride 1 has one column phase, so its row stride is Wp).
/// </summary>
internal readonly unsafe struct GridPanel(StagedImages s) : IPanelB
{
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = s.S; return true; }

    public void RowOffsets(int k0, int kc, int* dst)
    {
        for (int q = 0; q < kc; q++) dst[q] = s.RowOffset(k0 + q);
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        int* rows = stackalloc int[kc];
        RowOffsets(k0, kc, rows);
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
            Gemm.PackRows(s.S + j0 + jr, rows, kc, Math.Min(Gemm.NR, nc - jr), dst);
    }
}
