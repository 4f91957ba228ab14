using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The GEMM's macro-kernel: one mc×kc block of A against the kc×nc block of B, tile by tile, choosing per tile the
/// micro-kernel (8×32 on pairs of slivers, 16×16 or its half-width tail, 6×16 AVX2, portable) and the B source (packed,
/// a row-major B or rows at offsets read in place), with edge tiles through a stack buffer.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>
    /// Whether a last column sliver of at most 8 runs the 16-row kernel at half width (<see cref="Kernel16{TV, TVec}"/> on
    /// ymm). Paired A/B against the full-width tile (im2col convolutions, 2 threads, medians of 50 alternated calls):
    /// N1 C512 7×7 (49 columns: three slivers and one) 1.09–1.10, N1 C256 14×14 (196 = 12·16 + 4) 1.05–1.07, the
    /// 3×3/s2 layer to 7×7 1.09–1.10, N1 C512 10×10 1.03–1.05, N8 C512 7×7 (392 = 24·16 + 8) 1.01. The AVX2 path runs
    /// the 6-row kernel at half width there too (<see cref="KernelFma{TR, THalf}"/>). Settable for such measurements; the
    /// library never changes it.
    /// </summary>
    internal static bool HalfWidthTail = true;

    /// <summary>
    /// Whether the AVX-512 path runs two adjacent full B slivers at once as 8×32 tiles (<see cref="Kernel8x32"/>) on
    /// full 16-row A slivers; edges keep the 16×16 tile. Paired A/B against the 16×16 tile alone on Zen 5 (two full-width
    /// FMA pipes), 2 threads: sgemm n = 512 / 1024 / 2048 1.18-1.33 / 1.12-1.24 / 1.10-1.25, the stem 1.18-1.28, the 1×1
    /// layer 1.10-1.19, the 3×3/s2 layer 1.11-1.17, N1 C512 7×7 1.09-1.14, the other 3×3 layers 1.00-1.11. Not on an A packed whole (the
    /// filter cache's): those GEMMs stream A from memory once, and the wide tile's two 16 KiB B slivers beside the
    /// streaming A sliver overflowed L1 (m 512 · k 512 · 32 columns, A from DRAM: 86.7 against 95.5 GFLOP/s).
    /// Settable for paired measurements and the tests that compare the two (they agree bit for bit); the library never
    /// changes it.
    /// </summary>
    internal static bool WideTile = true;

    /// <summary>
    /// Whether a ragged last row sliver of full width on the AVX2 path runs <see cref="KernelFma{TR, THalf}"/> on its own rows,
    /// straight into C, rather than the 6-row tile into a stack buffer copied out row by row. 64 channels are ten 6-row
    /// slivers and one of 4, so the 6-row tile spends 3 % of such a GEMM's FMAs on padding. Settable for paired
    /// measurements and the test that compares the two (they agree bit for bit); the library never changes it.
    /// </summary>
    internal static bool ExactEdgeRows = true;

    /// <summary>
    /// Whether, on the AVX2 path, a full column sliver of a row-major B read in place is first copied into a packed
    /// sliver (contiguous, kc·64 bytes) that its row slivers then share, where its rows would crowd L1: a B row stride
    /// such as the 1×1 layer's 12.25 KiB puts the rows in 16 of L1's 64 sets, so read in place its 256-row sliver is
    /// fetched from L2 again for each of the 11 row slivers of 64 channels (<see cref="StagesB"/>). Paired A/B on Zen 3:
    /// the N1 C256 56×56 → 64 1×1 layer 1.09–1.12. Settable for paired measurements; the library never changes it.
    /// </summary>
    internal static bool StageInPlaceB = true;

    /// <summary>
    /// Whether <see cref="StageInPlaceB"/> applies: the kc rows of a sliver, ldb floats apart, would fill more than half
    /// the ways of the L1 sets they start in (64 sets of 64-byte lines, as on Zen 2–5 and recent Intel cores). Rows that
    /// are not line-aligned fall in every set. Short slivers fit whatever their stride, and there the copy is pure cost
    /// (the 64-row slivers of ResNet18's first Winograd layer read 0.98–0.99 staged).
    /// </summary>
    internal static bool StagesB(GemmIsa isa, int ldb, int kc)
    {
        if (isa != GemmIsa.Avx2 || !StageInPlaceB || ldb == 0) return false;
        int sets = 64;
        if (ldb % 16 == 0)
        {
            // Row r starts in set (r · ldb / 16) mod 64: gcd(64, ldb / 16) rows share a set cycle.
            int step = ldb / 16 % 64, g = 64;
            for (int x = step; x != 0;) (g, x) = (x, g % x);
            sets = 64 / g;
        }
        return kc > 4 * sets;
    }

    /// <summary>
    /// One mc×kc block of A against the kc×nc block of B; a is the packed A block (lda 0) or the block's first element of
    /// a row-major A with row stride lda, read in place; b is the packed B panel (ldb 0) or the block's first element of
    /// a row-major B with row stride ldb, read in place (a ragged last sliver is then packed into packB), or with
    /// <paramref name="bRows"/> the block's column 0 of a B whose row p starts at b + bRows[p] (<see cref="IPanelB.RowsInPlace"/>:
    /// pairs of slivers read in place, the others packed into packB).
    /// </summary>
    [SkipLocalsInit]
    private static void MacroKernel(int mc, int nc, int kc, float* a, int lda, float* b, int ldb, float* packB,
                                    float* c, int ldc, bool add, GemmIsa isa, float* bias, GemmEpilogue map, bool wideTile, int* bRows = null)
    {
        int height = PackedRows(isa);
        Unsafe.SkipInit(out TileBuffers t);
        t.Tile = (float*)(((nint)t.TileStore + 31) & ~(nint)31);
        t.Padded = t.PaddedStore;
        // A ragged last row sliver read in place is packed (zero rows) so the kernel never reads past A's last row.
        float* edgeA = stackalloc float[lda != 0 ? height * kc + 8 : 1];
        t.EdgeA = (float*)(((nint)edgeA + 31) & ~(nint)31);
        bool wide = isa == GemmIsa.Avx512 && WideTile && wideTile;
        bool stageB = StagesB(isa, ldb, kc);

        for (int jr = 0; jr < nc; jr += NR)
        {
            if (wide && jr + 2 * NR <= nc)
            {
                // Two full slivers: 8×32 tiles on each full A sliver, the 16×16 tile on a ragged last one.
                // In place (B's row stride, or per-k row offsets from B's base) or two packed slivers.
                float* b0 = ldb != 0 || bRows != null ? b + jr : b + (long)jr * kc;
                float* b1 = ldb != 0 || bRows != null ? b0 + NR : b0 + NR * kc;
                nint bs = ldb != 0 ? ldb : NR;
                for (int ir = 0; ir < mc; ir += height)
                {
                    if (mc - ir < height)
                    {
                        Tile(ir, jr, mc, nc, kc, a, lda, b, ldb, bRows, packB, c, ldc, add, isa, bias, map, ref t, stageB, repack: true);
                        Tile(ir, jr + NR, mc, nc, kc, a, lda, b, ldb, bRows, packB, c, ldc, add, isa, bias, map, ref t, stageB, repack: true);
                        continue;
                    }
                    float* ap = a + (long)ir * kc;
                    nint rs = 1, ks = height;
                    if (lda != 0) { ap = a + (long)ir * lda; rs = lda; ks = 1; }
                    float* cp = c + (long)ir * ldc + jr;
                    float* bi = bias == null ? null : bias + ir;
                    float* bi8 = bi == null ? null : bi + 8;
                    if (bRows != null)
                    {
                        Kernel8x32<OffsetRows>(kc, ap, rs, ks, b0, b1, 0, bRows, cp, ldc, add, bi);
                        Kernel8x32<OffsetRows>(kc, ap + 8 * rs, rs, ks, b0, b1, 0, bRows, cp + 8 * (long)ldc, ldc, add, bi8);
                    }
                    else
                    {
                        Kernel8x32<StridedRows>(kc, ap, rs, ks, b0, b1, bs, null, cp, ldc, add, bi);
                        Kernel8x32<StridedRows>(kc, ap + 8 * rs, rs, ks, b0, b1, bs, null, cp + 8 * (long)ldc, ldc, add, bi8);
                    }
                    if (map.HasMap) map.Rows(ir).Map(cp, ldc, height, 2 * NR);
                }
                jr += NR;
                continue;
            }
            for (int ir = 0; ir < mc; ir += height)
                Tile(ir, jr, mc, nc, kc, a, lda, b, ldb, bRows, packB, c, ldc, add, isa, bias, map, ref t, stageB);
        }
    }

    /// <summary>The stack buffers of one <see cref="MacroKernel"/> call that its edge tiles use.</summary>
    private unsafe struct TileBuffers
    {
        public fixed float TileStore[MR512 * NR + 8];
        public fixed float PaddedStore[MR512];
        /// <summary>The aligned tile, the padded bias and the packed ragged A sliver (MacroKernel's stack).</summary>
        public float* Tile, Padded, EdgeA;
    }

    /// <summary>The tile of rows ir.. and the sliver of columns jr.. of <see cref="MacroKernel"/>'s block, on the ISA's square-ish kernel.</summary>
    // Inlined: as a call per tile (18 arguments) the AVX2 path looked 5-15 % slower than with the body in MacroKernel's loop
    // (noisy cross-process runs, DOTNET_EnableAVX512=0); inlined, the two measured alike.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(int ir, int jr, int mc, int nc, int kc, float* a, int lda, float* b, int ldb, int* bRows, float* packB,
                             float* c, int ldc, bool add, GemmIsa isa, float* bias, GemmEpilogue map, ref TileBuffers t, bool stageB,
                             bool repack = false)
    {
        int height = PackedRows(isa);
        int nr = Math.Min(NR, nc - jr);
        float* bp = b + (long)jr * kc;
        nint bs = NR;
        if (bRows != null)
        {
            // Rows at offsets outside a pair: this sliver is packed, once for its column unless a pair's ragged rows share packB.
            if (ir == 0 || repack) PackRows(b + jr, bRows, kc, nr, packB);
            bp = packB;
        }
        else if (ldb != 0 && nr == NR && stageB)
        {
            // Copied once per column sliver, at its first row sliver, into kc·64 contiguous bytes that the other row
            // slivers read from L1.
            if (ir == 0 || repack) PackB(false, b + jr, ldb, kc, NR, packB, true);
            bp = packB;
        }
        else if (ldb != 0 && nr == NR)
        {
            bp = b + jr;
            bs = ldb;
        }
        else if (ldb != 0)
        {
            // Reading 16 floats per row would run past B's last column: this sliver is packed (zero columns).
            // Only the last sliver is ragged, so its packing persists across the row slivers.
            if (ir == 0) PackB(false, b + jr, ldb, kc, nr, packB, isa != GemmIsa.Portable);
            bp = packB;
        }
        int mr = Math.Min(height, mc - ir);
        float* ap = a + (long)ir * kc;
        nint rs = 1, ks = height;
        if (lda != 0 && mr == height)
        {
            ap = a + (long)ir * lda;
            rs = lda;
            ks = 1;
        }
        else if (lda != 0)
        {
            // Only the last row sliver is ragged; packed once, at the first column sliver that reaches it.
            if (jr == 0) PackA(false, a + (long)ir * lda, lda, mr, kc, t.EdgeA, height, isa != GemmIsa.Portable);
            ap = t.EdgeA;
        }
        float* cp = c + (long)ir * ldc + jr;
        float* bi = bias == null ? null : bias + ir;
        // On AVX2 a sliver short of rows only (not of columns) runs a kernel of exactly its rows, in place.
        bool rowEdge = isa == GemmIsa.Avx2 && nr == NR && mr < height && ExactEdgeRows;
        bool full = (mr == height || rowEdge) && nr == NR;
        if (!full && bi != null && mr < height)
        {
            // The bias of the rows past mr is never read: the tile is cut to mr rows.
            for (int i = 0; i < height; i++) t.Padded[i] = i < mr ? bi[i] : 0f;
            bi = t.Padded;
        }
        float* dst = full ? cp : t.Tile;
        int ldd = full ? ldc : NR;
        bool acc = full && add;
        switch (isa)
        {
            case GemmIsa.Avx2 when rowEdge: KernelFmaRows(mr, kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
            // A last sliver of at most 8 columns runs half-width (it lands in the tile buffer, nr < NR).
            case GemmIsa.Avx512 when nr <= NR / 2 && HalfWidthTail: Kernel16<Ymm, Vector256<float>>(kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
            case GemmIsa.Avx512: Kernel16<Zmm, Vector512<float>>(kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
            // Likewise on AVX2 (into the tile buffer; a ragged A sliver is zero-padded, so six rows are safe to read).
            case GemmIsa.Avx2 when nr <= NR / 2 && HalfWidthTail: KernelFma<Rows6, Yes>(kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
            case GemmIsa.Avx2: KernelFma<Rows6, No>(kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
            default: KernelPortable(kc, ap, rs, ks, bp, bs, dst, ldd, acc, bi); break;
        }
        if (!full) StoreEdge(t.Tile, cp, ldc, mr, nr, add);
        // The finished tile is still in L1: the per-row map costs no extra pass over C.
        if (map.HasMap) map.Rows(ir).Map(cp, ldc, mr, nr);
    }

    private static void StoreEdge(float* tile, float* c, int ldc, int mr, int nr, bool add)
    {
        for (int i = 0; i < mr; i++)
        {
            float* t = tile + i * NR;
            float* d = c + (long)i * ldc;
            if (add) for (int j = 0; j < nr; j++) d[j] += t[j];
            else for (int j = 0; j < nr; j++) d[j] = t[j];
        }
    }
}
