// Gemm.cs — ConvKit's single-precision matrix multiply (SGEMM), pure C#.
//
// What it is
//   A cache-blocked, packed GEMM in the BLIS / GotoBLAS style described in
//   K. Goto and R. A. van de Geijn, "Anatomy of High-Performance Matrix Multiplication",
//   ACM TOMS 34(3), 2008, and F. Van Zee and R. van de Geijn, "BLIS: A Framework for
//   Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015:
//
//     for jc in 0..n step NC          (5th loop)  B column panel, lives in L3
//       for pc in 0..k step KC        (4th loop)  pack B[pc:pc+KC, jc:jc+NC] into KC×NR slivers
//         for ic in 0..m step MC      (3rd loop)  pack A[ic:ic+MC, pc:pc+KC] into MR×KC slivers (L2)
//           for jr in 0..NC step NR   (2nd loop)  one KC×NR B sliver stays in L1
//             for ir in 0..MC step MR (1st loop)  stream MR×KC A slivers from L2
//               micro-kernel: MR×NR block of C held in registers, rank-1 update per k
//
//   Packing absorbs transA / transB and the leading dimensions, so the micro-kernel sees
//   exactly one layout (A sliver: k-major, MR floats per k; B sliver: k-major, NR floats
//   per k, or, for GEMMs of at most 64 rows with a row-major B, B's own rows read in place:
//   there a packed sliver would serve only four A slivers; on AVX2, where 64 rows are eleven
//   A slivers, a sliver whose rows would crowd L1 is copied once at its first A sliver,
//   StagesB). Packed slivers are zero-padded
//   to full MR / NR, so the micro-kernel always runs at full size; edge tiles go to a small
//   stack tile and only the valid part is copied (or added) into C — there is no scalar
//   cliff at ragged edges.
//
//   The AVX2+FMA micro-kernel is 6×16: 12 Vector256<float> accumulators, 2 B loads and
//   6 broadcasts of A per k, 12 FMAs per k (enough independent chains to cover the
//   4-cycle FMA latency on two FMA pipes), C tile prefetched up front. It reads A through
//   a row and a k stride, so it runs on packed slivers or, for narrow stripes, on the rows
//   of a row-major A in place. B may be any IPanelB: a dense matrix, or an image seen as its
//   im2col matrix (Im2ColPanel). Transposed B is packed with 8×8 AVX register transposes.
//   On a CPU with AVX-512 the micro-kernel is 16×16 instead: 16 Vector512 accumulators, one
//   B load and 16 broadcast FMAs per k, on 16-row A slivers (packed with 8×8 transposes, or
//   16 rows read in place). Zen 4 executes a 512-bit FMA as two 256-bit halves, so the peak
//   is the same; what the larger tile buys is half the loads per multiply-add, which the 6×16
//   kernel needed when both cores streamed from their caches (sgemm n = 512 / 1024 / 2048 on
//   2 threads 1.19 / 1.21 / 1.16× faster in a paired in-process A/B). Where two full B slivers sit side by side
//   the AVX-512 path runs 8×32 tiles instead (Kernel8x32: half an A sliver against both, two B loads and 8
//   broadcasts per 16 FMAs), which a core with two full-width 512-bit FMA pipes needs (Zen 5): there the 16×16
//   tile's 17 loads per 16 FMAs held it at 75-88 % of the FMA peak on cached data, the 8×32 tile at 91-94 %.
//   The B panel layout is the same for all, and every output
//   is the same FMA chain over k, so the kernels agree bit for bit (tested).
//   Without AVX2/FMA (or with ForceScalar) the same driver and the same packed panels are
//   used with a portable Vector128 micro-kernel and scalar packing.
//
//   Measured (AMD EPYC Zen 4 VM, 2 cores, .NET 10, square n, medians, 2026-12-01, AVX-512
//   kernel): 1 thread ≈ 90-102 GFLOP/s for n = 512..2048 (80-90 % of a 12-chain FMA peak
//   loop, ≈ 112 GFLOP/s), at par with OpenBLAS 0.3.21's AVX-512 kernel through numpy;
//   2 threads 0.94-1.04× of OpenBLAS (2026-12-02, five alternating rounds, BENCHMARKS.md).
//
// When it wins
//   Whenever m·n·k is more than a few thousand: convolution-as-GEMM (im2col), dense
//   layers with a batch, and their backward passes (which need the transposed variants).
//   For tiny products (a handful of outputs, or k of a few) the packing overhead dominates
//   and a direct loop is as fast. Every A element is packed once per NC columns and every
//   B element once per MC rows, so very skinny shapes (n or m below ~32) spend a large share
//   of their time packing (≈ 45 GFLOP/s at n = 16); a dedicated GEMV / skinny kernel would
//   win there, though this is still correct and far faster than a naive loop.
//
// Threading
//   With maxThreads > 1 and enough work (m·n·k >= 2^20 multiply-adds, more than one tile)
//   the output is split statically into min(maxThreads, cores, tiles) contiguous stripes
//   along the larger of m / n, or along n when the stripes read A in place (whole MR / NR
//   tiles per stripe); each stripe is an
//   independent blocked GEMM with its own packing buffers, so there is no synchronisation
//   inside. Stripes of n take equal numbers of whole tiles (pairs of slivers for the 8×32 tile)
//   and the columns left over are cut along m across all stripes, so that no stripe runs a
//   tile the others wait for (ColumnsSplitAlongN). Packing of the operand shared by all
//   stripes is duplicated per stripe, which costs ~threads/max(m,n) of the arithmetic. The stripes run as one Parallelism.For on the
//   library's spinning workers (WorkerPool): the caller takes a stripe itself, and a worker
//   that spun since the previous loop starts in well under a microsecond. (Parallel.For's
//   replicas often started 1-2 ms late on the 2-core VM; thread-pool work items took ~30 µs
//   and more when the pool thread had gone to sleep.) The ~25 µs threshold stays as the cost
//   of splitting a small product's packing.
//
// Memory
//   Packing buffers are [ThreadStatic], allocated once per thread on the pinned object heap
//   (grown on demand, 32-byte aligned), so steady-state calls allocate nothing; a threaded
//   call allocates one small job object.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// Row-major single-precision GEMM: C[m,n] = op(A)[m,k] · op(B)[k,n] (+ C when accumulate).
/// op(A) = A when !transA (A is m×k with row stride lda), Aᵀ when transA (A stored k×m, row stride lda).
/// Same for B (k×n, or stored n×k when transB).
internal static unsafe partial class Gemm
{
    /// Micro-tile rows (A broadcasts per k). 6 rows × 2 vectors = 12 accumulators + 2 B
    /// vectors + 1 broadcast = 15 of the 16 ymm registers.
    internal const int MR = 6;

    /// Micro-tile rows of the AVX-512 kernel, which has 32 registers: 16 accumulators, one B vector.
    internal const int MR512 = 16;

    /// Micro-tile columns: two 8-float AVX vectors, or one AVX-512 vector.
    internal const int NR = 16;

    // Block sizes, chosen for a Zen 2/3-class core (L1d 32 KiB, L2 512 KiB, shared L3 of
    // several MiB) and equally reasonable for recent Intel cores; they match the BLIS zen
    // sgemm configuration:
    //   KC: one packed B sliver (KC×NR floats = 16 KiB) must stay in L1 while the A slivers
    //       stream past it, leaving the other half of L1 for the A sliver (6 KiB) and C.
    //       A larger KC also amortises the load/store of the C tile over more FMAs.
    //   MC: the packed A block (MC×KC floats = 144 KiB) stays resident in L2 (half of a
    //       512 KiB L2, the rest is room for the B panel streaming through). Multiple of MR.
    //   NC: the packed B panel (KC×NC floats = 1 MiB). A is repacked once per NC columns, which
    //       costs ~1/NC of the arithmetic; a panel that outlived L2 (4 MiB at NC = 4080, the BLIS
    //       zen value) was written to L3 by the packing and read back by the kernel, which cost
    //       the few-row GEMMs of batched small-plane convs most: N64 C32 14×14 K64 im2col 1.16×
    //       faster at NC = 1024, N8 C64 56×56 1.03×, sgemm n = 512…2048 and the other convs
    //       unchanged (paired in-process A/B, 2 threads; NC = 512 lost 3 % on sgemm n = 2048).
    internal const int KC = 256;
    internal const int MC = 144;
    internal const int NC = 1024;

    /// <summary>
    /// The longest K slice <see cref="SliceK"/> makes (B sliver 20 KiB, A sliver 7.5 KiB: still within a 32 KiB L1),
    /// so that a k a little above KC is one slice, not a full one and a short one.
    /// </summary>
    internal const int KCMax = 320;

    /// <summary>
    /// Whether K is cut into equal slices of at most <see cref="KCMax"/> (k = 288, a 32-channel 3×3 layer: one slice
    /// instead of 256 + 32; 576: two of 288 instead of three; 1152: four instead of five), each of which costs a load and
    /// a store of every C tile and the tile's loop overheads; false cuts slices of KC and a remainder. Settable for paired
    /// measurements (never while another thread runs GEMMs: an A packed whole under one cut is read under the other);
    /// the library never changes it.
    /// </summary>
    internal static bool BalancedSlices = true;

    /// <summary>The length of the K slices (the last may be shorter) that the blocked loop and <see cref="PackWholeA"/> cut k into.</summary>
    internal static int SliceK(int k) => SliceK(k, BalancedSlices);

    /// <summary><see cref="SliceK(int)"/> under a given <see cref="BalancedSlices"/>.</summary>
    internal static int SliceK(int k, bool balanced)
    {
        if (!balanced) return Math.Min(KC, k);
        if (k <= KCMax) return k;
        int slices = (k + KCMax - 1) / KCMax;
        return (k + slices - 1) / slices;
    }

    /// Below this many multiply-adds the work runs on the calling thread only: 2^20 MACs is
    /// ~25 µs on one core, about what waking a pool thread costs (measured crossover ≈ 1M:
    /// 80³ and 96³ were slower with 2 threads, 64×256×64 and 128³ faster).
    internal const long ParallelThreshold = 1L << 20;

    /// Tests set this to force the portable (non-AVX) micro-kernel. Default false.
    internal static bool ForceScalar;

    /// Tests set this to run the AVX2 micro-kernel on a CPU with AVX-512. Default false.
    internal static bool ForceAvx2;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>
    /// C[m,n] = op(A)·op(B) (+ C when <paramref name="accumulate"/>), row-major, on raw pointers.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k,
                             float* a, int lda, float* b, int ldb,
                             float* c, int ldc, bool accumulate, int maxThreads)
    {
        ValidateShape(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        if (c == null) throw new ArgumentNullException(nameof(c));

        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        if (a == null) throw new ArgumentNullException(nameof(a));
        if (b == null) throw new ArgumentNullException(nameof(b));

        Sgemm(transA, m, n, k, a, lda, new DenseB(b, ldb, transB), c, ldc, accumulate, maxThreads);
    }

    /// <summary>
    /// C[m,n] = op(A)·B (+ C when <paramref name="accumulate"/>), then the per-row <paramref name="epilogue"/>, where B is any
    /// <see cref="IPanelB"/>: a dense matrix, or a matrix that exists only virtually (an image seen as its im2col
    /// matrix), packed straight into the micro-kernel's layout. Shapes and pointers are the caller's to ensure.
    /// </summary>
    internal static void Sgemm<TB>(bool transA, int m, int n, int k, float* a, int lda, TB b,
                                   float* c, int ldc, bool accumulate, int maxThreads, GemmEpilogue epilogue = default)
        where TB : struct, IPanelB =>
        Sgemm(transA, m, n, k, a, lda, b, c, ldc, accumulate, maxThreads, epilogue, packedA: null);

    /// <summary>
    /// C[m,n] = A·B (+ C) with A the flipped view of a convolution's weights (<see cref="FlippedWeights"/>), packed from
    /// them as the GEMM goes instead of from a flipped copy.
    /// </summary>
    internal static void Sgemm<TB>(FlippedWeights a, int m, int n, int k, TB b, float* c, int ldc, bool accumulate, int maxThreads,
                                   GemmEpilogue epilogue = default) where TB : struct, IPanelB =>
        Sgemm(false, m, n, k, null, 0, b, c, ldc, accumulate, maxThreads, epilogue, null, flip: a);

    /// <summary>
    /// C[m,n] = A·B (+ C) with A [m, k] packed once by <see cref="PackWholeA"/> for <paramref name="isa"/>, whose
    /// micro-kernel then runs whatever <see cref="Isa"/> says now (the layout is that kernel's).
    /// </summary>
    internal static void Sgemm<TB>(float* packedA, GemmIsa isa, int m, int n, int k, TB b, float* c, int ldc, bool accumulate, int maxThreads,
                                   GemmEpilogue epilogue = default) where TB : struct, IPanelB =>
        Sgemm(false, m, n, k, null, 0, b, c, ldc, accumulate, maxThreads, epilogue, packedA, isa);

    private static void Sgemm<TB>(bool transA, int m, int n, int k, float* a, int lda, TB b,
                                  float* c, int ldc, bool accumulate, int maxThreads, GemmEpilogue epilogue, float* packedA, GemmIsa? packedIsa = null,
                                  FlippedWeights flip = default)
        where TB : struct, IPanelB
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            // An empty sum: C keeps its value (accumulate) or becomes 0, then the bias and the map as usual.
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + (long)i * ldc, n);
                if (!accumulate) row.Clear();
                if (epilogue.Bias != null) System.Numerics.Tensors.TensorPrimitives.Add(row, epilogue.Bias[i], row);
            }
            if (epilogue.HasMap) epilogue.Map(c, ldc, m, n);
            return;
        }
        GemmIsa isa = packedIsa ?? Isa;
        int threads = Math.Min(maxThreads, Environment.ProcessorCount);
        // Split the larger dimension, which duplicates less packing; but split n whenever each stripe reads A in place,
        // since then splitting m would duplicate only B's packing, for a convolution the costlier im2col gather
        // (N1 C128 28×28 K256 3×3/s2: 1.07× in a paired A/B; C512 7×7, four column tiles, lost 2.5 %, hence ≥ 8 tiles).
        // A packed whole is read from its global offsets, which only stripes of n keep.
        bool splitN = packedA != null || n >= m || (n >= 8 * NR && ReadsAInPlace(transA, (n + threads - 1) / Math.Max(threads, 1), lda));
        if (threads > 1)
        {
            if ((long)m * n * k < ParallelThreshold) threads = 1;
            else
            {
                int tiles = splitN ? (n + NR - 1) / NR : (m + PackedRows(isa) - 1) / PackedRows(isa);
                threads = Math.Min(threads, tiles);
            }
        }

        if (threads <= 1)
        {
            Blocked(transA, m, n, k, a, lda, b, 0, c, ldc, accumulate, isa, epilogue, packedA, flip);
            return;
        }

        var job = new StripeJob<TB>
        {
            TransA = transA, M = m, N = n, K = k, A = (nint)a, Lda = lda, B = b, C = (nint)c, Ldc = ldc, Epilogue = epilogue, PackedA = (nint)packedA, Flip = flip,
            Accumulate = accumulate, Isa = isa, Stripes = threads, SplitN = splitN,
            SplitNColumns = splitN ? ColumnsSplitAlongN(m, n, threads, isa, packedA != null) : n,
        };
        Parallelism.For(threads, threads, job.RunStripe);
    }

    /// <summary>True when the AVX2/FMA micro-kernel and SIMD packing run (false on other CPUs or under <see cref="ForceScalar"/>).</summary>
    internal static bool UsesFma => Fma.IsSupported && Avx2.IsSupported && !ForceScalar;

    /// <summary>The micro-kernel the next call runs: AVX-512 where the CPU has it, else AVX2/FMA, else portable.</summary>
    internal static GemmIsa Isa =>
        !UsesFma ? GemmIsa.Portable : Avx512F.IsSupported && !ForceAvx2 ? GemmIsa.Avx512 : GemmIsa.Avx2;

    /// <summary>Floats <see cref="PackWholeA"/> writes for an [m, k] matrix under <paramref name="isa"/>.</summary>
    internal static long PackedAFloats(int m, int k, GemmIsa isa) => (long)RoundUp(m, PackedRows(isa)) * k;

    /// <summary>
    /// Packs a row-major A [m, k] (row stride lda) once into the micro-kernel's slivers for <paramref name="isa"/>, for an
    /// operand many calls reuse: each K slice in turn, its row slivers in order (slice pc at pc · ⌈m⌉, sliver rows r at
    /// + r · kc), exactly the blocks the blocked loop would pack, so the packed-A Sgemm
    /// finds each at a fixed offset.
    /// </summary>
    internal static void PackWholeA(float* a, int lda, int m, int k, GemmIsa isa, float* dst)
    {
        int height = PackedRows(isa);
        int slice = SliceK(k);
        for (int pc = 0; pc < k; pc += slice)
            PackA(false, a + pc, lda, m, Math.Min(slice, k - pc), dst + (long)pc * RoundUp(m, height), height, isa != GemmIsa.Portable);
    }

    /// <summary>Rows of a packed A sliver for <paramref name="isa"/>'s micro-kernel.</summary>
    private static int PackedRows(GemmIsa isa) => isa == GemmIsa.Avx512 ? MR512 : MR;

    /// <summary>
    /// Managed-array overload: the matrices start at the given offsets; arrays are pinned
    /// for the duration of the call. Extents are checked against the array lengths.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k,
                             float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                             float[] c, int cOffset, int ldc, bool accumulate, int maxThreads)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        ValidateShape(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        CheckExtent(a.Length, aOffset, transA ? k : m, transA ? m : k, lda, nameof(a));
        CheckExtent(b.Length, bOffset, transB ? n : k, transB ? k : n, ldb, nameof(b));
        CheckExtent(c.Length, cOffset, m, n, ldc, nameof(c));

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            // Empty arrays pin to null; the extent checks make that possible only when k == 0,
            // where A and B are never read.
            Sgemm(transA, transB, m, n, k, pa + aOffset, lda, pb + bOffset, ldb,
                  pc + cOffset, ldc, accumulate, maxThreads);
        }
    }

    private static void ValidateShape(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        if (lda < Math.Max(1, transA ? m : k)) throw new ArgumentOutOfRangeException(nameof(lda));
        if (ldb < Math.Max(1, transB ? k : n)) throw new ArgumentOutOfRangeException(nameof(ldb));
        if (ldc < Math.Max(1, n)) throw new ArgumentOutOfRangeException(nameof(ldc));
    }

    private static void CheckExtent(int length, int offset, int rows, int cols, int ld, string name)
    {
        if (offset < 0 || offset > length) throw new ArgumentOutOfRangeException(name + "Offset");
        if (rows == 0 || cols == 0) return;
        long last = offset + (long)(rows - 1) * ld + cols;
        if (last > length) throw new ArgumentException($"Matrix {name} ({rows}×{cols}, ld={ld}) at offset {offset} exceeds the array length {length}.", name);
    }

    // ---------------------------------------------------------------- threading

    /// One threaded GEMM call: the output is cut into <see cref="Stripes"/> contiguous stripes
    /// (whole tiles) along m or n, one per thread of <see cref="Parallelism.For(int, int, Action{int})"/>.
    private sealed class StripeJob<TB> where TB : struct, IPanelB
    {
        public bool TransA, Accumulate, SplitN;
        public GemmIsa Isa;
        public int M, N, K, Lda, Ldc, Stripes;

        /// <summary>With <see cref="SplitN"/>: the leading columns cut into stripes along n; the rest are cut along m.</summary>
        public int SplitNColumns;
        public nint A, C, PackedA;
        public FlippedWeights Flip;
        public GemmEpilogue Epilogue;
        public TB B;

        public void RunStripe(int s)
        {
            float* pa = (float*)A, pc = (float*)C;
            if (SplitN)
            {
                var (start, end) = Stripe(s, SplitNColumns, NR);
                if (start < end) Blocked(TransA, M, end - start, K, pa, Lda, B, start, pc + start, Ldc, Accumulate, Isa, Epilogue, (float*)PackedA, Flip);
                if (SplitNColumns == N) return;
                // The columns past the stripes' whole tiles, cut along m instead so that no stripe runs a tile more.
                (start, end) = Stripe(s, M, PackedRows(Isa));
                if (start < end) Rows(start, end, SplitNColumns, N - SplitNColumns);
            }
            else
            {
                var (start, end) = Stripe(s, M, PackedRows(Isa));
                if (start < end) Rows(start, end, 0, N);
            }

            void Rows(int start, int end, int j0, int n) =>
                Blocked(TransA, end - start, n, K, pa + (TransA ? start : (long)start * Lda), Lda, B, j0, pc + (long)start * Ldc + j0, Ldc,
                        Accumulate, Isa, Epilogue.Rows(start), flip: Flip.From(start));
        }

        /// <summary>Stripe s of Stripes over [0, extent) in whole units (the last may be ragged).</summary>
        private (int Start, int End) Stripe(int s, int extent, int unit)
        {
            int tiles = (extent + unit - 1) / unit;
            return ((int)((long)tiles * s / Stripes) * unit, Math.Min(extent, (int)((long)tiles * (s + 1) / Stripes) * unit));
        }
    }

    // ---------------------------------------------------------------- driver

    /// The five-loop blocked GEMM (single thread) on columns j0..j0+n of B. m, n, k > 0.
    /// With <paramref name="packedA"/> (from <see cref="PackWholeA"/>, a and lda unused), A is read from its slivers as packed.
    private static void Blocked<TB>(bool transA, int m, int n, int k, float* a, int lda, in TB b, int j0,
                                    float* c, int ldc, bool accumulate, GemmIsa isa, GemmEpilogue epilogue, float* packedA = null,
                                    FlippedWeights flip = default) where TB : struct, IPanelB
    {
        bool fma = isa != GemmIsa.Portable;
        bool direct = packedA == null && !flip.IsSet && ReadsAInPlace(transA, n, lda);
        int rowsPerSliver = PackedRows(isa);
        int kcMax = SliceK(k);
        int ncMax = Math.Min(NC, RoundUp(n, NR));
        int mcMax = Math.Min(MC, RoundUp(m, rowsPerSliver));
        float* packA = PackBuffer(ref t_packA, mcMax * kcMax, MC * KCMax);
        float* packB = PackBuffer(ref t_packB, ncMax * kcMax, NC * KCMax);
        bool bInPlace = ReadsBInPlace(m, b, out float* bm, out int ldbm);
        // Rows at offsets are read in place by the wide tile only; other ISAs pack them like any panel.
        bool bRows = !bInPlace && packedA == null && isa == GemmIsa.Avx512 && WideTile && b.RowsInPlace(out bm);
        int* rowOff = null;
        if (bRows)
        {
            int* table = stackalloc int[KCMax + 1];
            rowOff = table;
        }

        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                // The first K slice overwrites C unless accumulating; later slices add.
                bool add = accumulate || pc > 0;

                if (bRows)
                {
                    b.RowOffsets(pc, kc, rowOff);
                    rowOff[kc] = rowOff[kc - 1];
                }
                else if (!bInPlace) b.Pack(pc, kc, j0 + jc, nc, packB, fma);
                float* bBlock = bInPlace ? bm + (long)pc * ldbm + j0 + jc : bRows ? bm + j0 + jc : packB;

                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    float* aSrc = transA ? a + (long)pc * lda + ic : a + (long)ic * lda + pc;
                    float* aBlock = packedA != null ? packedA + (long)pc * RoundUp(m, rowsPerSliver) + (long)ic * kc : direct ? aSrc : packA;
                    if (flip.IsSet) flip.Pack(ic, mc, pc, kc, packA, rowsPerSliver);
                    else if (!direct && packedA == null) PackA(transA, aSrc, lda, mc, kc, packA, rowsPerSliver, fma);
                    var rows = epilogue.Rows(ic);
                    MacroKernel(mc, nc, kc, aBlock, direct ? lda : 0, bBlock, bInPlace ? ldbm : 0, packB, c + (long)ic * ldc + jc, ldc, add, isa,
                                pc == 0 ? rows.Bias : null, pc + kc == k && rows.HasMap ? rows : default, wideTile: packedA == null, bRows: rowOff);
                }
            }
        }
    }

    /// <summary>
    /// False cuts stripes of n over all columns, for paired A/B measurements and the tests that compare the two. Default
    /// true: see <see cref="ColumnsSplitAlongN"/>.
    /// </summary>
    internal static bool BalancedRemainder = true;

    /// <summary>
    /// How many leading columns a GEMM cut into stripes of n splits along n: the most that give every stripe the same
    /// number of whole tiles (pairs of slivers where the 8×32 tile runs). The remaining columns, less than a tile per
    /// stripe, are cut along m across all stripes: otherwise one stripe runs them alone while the others wait (the
    /// 3×3/s2 layer's 196 columns were 96 + 100, three pairs against three and a sliver of 4).
    /// </summary>
    private static int ColumnsSplitAlongN(int m, int n, int stripes, GemmIsa isa, bool packedA)
    {
        // An A packed whole is addressed by its global rows, which a cut along m would shift. Every stripe packs the
        // remaining columns' B for its rows, so it pays only where each has at least four A slivers to reuse them:
        // with fewer (a 64-row weight gradient's k = 12544) the duplicated packing cost what the balance gained.
        if (!BalancedRemainder || packedA || m < stripes * 4 * MR512) return n;
        int unit = stripes * (isa == GemmIsa.Avx512 && WideTile ? 2 * NR : NR);
        int whole = n / unit * unit;
        return whole == 0 ? n : whole;
    }

    /// <summary>
    /// Whether the micro-kernel reads a row-major A in place instead of packing it: when few columns share each packed
    /// A element (packing costs a read and a write of A for only n/NR uses: a 512-channel 3×3 conv on a 7×7 plane spent
    /// 23 % of its time in PackA), unless the row stride is a multiple of 4 KiB, where six rows would share L1 sets.
    /// </summary>
    private static bool ReadsAInPlace(bool transA, int n, int lda) => !transA && n <= DirectAMaxColumns && lda % 1024 != 0;

    /// <summary>Stripes at most this wide read A in place (see <see cref="ReadsAInPlace"/>).</summary>
    internal static int DirectAMaxColumns = 256;

    /// <summary>
    /// Whether the micro-kernel reads a row-major B in place instead of packing it: for GEMMs of few rows, whose packed B
    /// slivers would be read by only a few A slivers (a 1×1 conv's or a Winograd position's 64 output channels: four)
    /// so that the packing pass costs a large share of the arithmetic. The micro-kernel then loads each k's 16 floats
    /// from B's row instead of from the sliver, the same lines the packing would have read. Not for row strides that
    /// are a multiple of 4 KiB, whose rows would share L1 sets.
    /// </summary>
    private static bool ReadsBInPlace<TB>(int m, in TB b, out float* bm, out int ldb) where TB : struct, IPanelB
    {
        bm = null;
        ldb = 0;
        return m <= InPlaceBMaxRows && b.RowMajor(out bm, out ldb) && ldb % 1024 != 0;
    }

    /// <summary>
    /// GEMMs of at most this many rows read a row-major B in place (see <see cref="ReadsBInPlace"/>). Paired A/B against
    /// packing, 2 threads: the N1 C256 56×56 → 64 1×1 conv 1.16× (0.581 → 0.500 ms) and 1.08× in a noisier sitting,
    /// 3×3 layers on Winograd (whose per-position GEMMs have K rows) 1.00–1.03×; at 128 rows (C256 28×28 → 128 1×1)
    /// 0.91–1.03×, and at 256 (C64 → 256 1×1) 0.95×, so the packed sliver's reuse wins from there. Settable for such
    /// paired measurements; the library never changes it.
    /// </summary>
    internal static int InPlaceBMaxRows = 64;

    internal static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    /// Returns a 32-byte aligned buffer of at least <paramref name="floats"/> floats, cached
    /// per thread on the pinned object heap (never moves, so no `fixed` needed).
    private static float* PackBuffer(ref float[]? cache, int floats, int maxFloats)
    {
        float[]? buf = cache;
        if (buf == null || buf.Length < floats + 8)
        {
            int size = Math.Max(floats, Math.Min(maxFloats, buf == null ? 0 : buf.Length * 2));
            buf = GC.AllocateUninitializedArray<float>(size + 8, pinned: true);
            cache = buf;
        }
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buf));
        return (float*)((p + 31) & ~(nint)31);
    }

}

/// <summary>The GEMM micro-kernel family a call runs (<see cref="Gemm.Isa"/>).</summary>
internal enum GemmIsa : byte
{
    /// <summary>Vector128 kernel and scalar packing: CPUs without AVX2/FMA, or <see cref="Gemm.ForceScalar"/>.</summary>
    Portable,

    /// <summary>6×16 Vector256 FMA kernel.</summary>
    Avx2,

    /// <summary>16×16 Vector512 FMA kernel on 16-row A slivers.</summary>
    Avx512,
}
