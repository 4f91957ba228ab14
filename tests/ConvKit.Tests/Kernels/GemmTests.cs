using ConvKit.Kernels.Cpu;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// Checks <see cref="Gemm.Sgemm(bool, bool, int, int, int, float[], int, int, float[], int, int, float[], int, int, bool, int)"/>
/// against a naive double-precision triple loop.
// Gemm.ForceScalar is a process-wide static: every test here restores it in a finally, and the
// classes that flip it or compare bit for bit share one xUnit collection (ForceScalarCollection),
// so they never run at the same time.
[Collection(ForceScalarCollection.Name)]
public class GemmTests
{
    private static readonly int[] OddSizes = { 1, 5, 7, 17, 33, 65, 100 };

    /// Fills an array with uniform values in [-1, 1); NaN sentinels are not used so padding
    /// regions can be checked for exact preservation.
    private static float[] RandomArray(Random rnd, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rnd.NextDouble() * 2 - 1);
        return x;
    }

    /// Runs one case through both overloads' common path (the array one) and compares with
    /// the reference. Strides get random padding; C's padding and everything outside the
    /// logical matrix must be untouched.
    private static void RunCase(Random rnd, bool transA, bool transB, int m, int n, int k,
                                bool accumulate, int threads, bool padStrides)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = Math.Max(1, aCols) + (padStrides ? rnd.Next(1, 9) : 0);
        int ldb = Math.Max(1, bCols) + (padStrides ? rnd.Next(1, 9) : 0);
        int ldc = Math.Max(1, n) + (padStrides ? rnd.Next(1, 9) : 0);
        int aOff = padStrides ? rnd.Next(0, 5) : 0, bOff = padStrides ? rnd.Next(0, 5) : 0, cOff = padStrides ? rnd.Next(0, 5) : 0;

        float[] a = RandomArray(rnd, aOff + aRows * lda);
        float[] b = RandomArray(rnd, bOff + bRows * ldb);
        float[] c = RandomArray(rnd, cOff + m * ldc + 3);
        float[] c0 = (float[])c.Clone();

        Gemm.Sgemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, threads);

        for (int idx = 0; idx < c.Length; idx++)
        {
            int rel = idx - cOff;
            int i = rel >= 0 ? rel / ldc : -1, j = rel >= 0 ? rel % ldc : -1;
            bool inside = rel >= 0 && i < m && j < n;
            if (!inside)
            {
                Assert.True(c0[idx] == c[idx], $"element {idx} outside C was modified");
                continue;
            }
            double sum = 0, mag = 0;
            for (int p = 0; p < k; p++)
            {
                double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                sum += av * bv;
                mag += Math.Abs(av * bv);
            }
            if (accumulate) { sum += c0[idx]; mag += Math.Abs(c0[idx]); }
            double tol = 1e-5 * Math.Sqrt(Math.Max(k, 1)) * mag + 1e-30;
            double err = Math.Abs(c[idx] - sum);
            Assert.True(err <= tol,
                $"C[{i},{j}] = {c[idx]} expected {sum} (err {err:E2} > tol {tol:E2}); " +
                $"tA={transA} tB={transB} m={m} n={n} k={k} acc={accumulate} threads={threads} isa={Gemm.Isa}");
        }
    }

    public static IEnumerable<object[]> Paths()
    {
        foreach (var path in GemmPaths.All)
            foreach (bool tA in new[] { false, true })
                foreach (bool tB in new[] { false, true })
                    yield return new object[] { path, tA, tB };
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void OddSizes_AllTransposes(GemmPath path, bool transA, bool transB)
    {
        var rnd = new Random(1234 + 4 * (int)path + (transA ? 2 : 0) + (transB ? 1 : 0));
        GemmPaths.With(path, () =>
        {
            foreach (int m in OddSizes)
                foreach (int n in OddSizes)
                {
                    // A spread of k per (m, n) keeps the run short while still crossing
                    // the unroll / KC boundaries somewhere.
                    int k = OddSizes[(m * 7 + n * 3) % OddSizes.Length];
                    bool acc = ((m + n) & 1) == 0;
                    RunCase(rnd, transA, transB, m, n, k, acc, threads: 1, padStrides: (m + n) % 3 != 0);
                }
        });
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void CrossesBlockBoundaries(GemmPath path, bool transA, bool transB)
    {
        // k = 257 crosses the KC = 256 slice boundary (second slice adds); m = 150 crosses
        // MC = 144; both are ragged with respect to MR and NR.
        var rnd = new Random(99 + 4 * (int)path + (transA ? 2 : 0) + (transB ? 1 : 0));
        GemmPaths.With(path, () =>
        {
            RunCase(rnd, transA, transB, 150, 37, 257, accumulate: false, threads: 1, padStrides: true);
            RunCase(rnd, transA, transB, 13, 65, 257, accumulate: true, threads: 2, padStrides: true);
            RunCase(rnd, transA, transB, 65, 100, 100, accumulate: false, threads: 2, padStrides: false);
        });
    }

    [Fact]
    public void WideN_CrossesNcPanel()
    {
        // n > NC exercises the outer column-panel loop (and a ragged last panel).
        var rnd = new Random(7);
        RunCase(rnd, false, false, 7, Gemm.NC + 21, 5, accumulate: true, threads: 1, padStrides: true);
        RunCase(rnd, false, true, 7, Gemm.NC + 21, 5, accumulate: false, threads: 2, padStrides: true);
    }

    [Theory]
    [InlineData(GemmPath.Native, false)]
    [InlineData(GemmPath.Avx2, false)]
    [InlineData(GemmPath.Portable, false)]
    [InlineData(GemmPath.Native, true)]
    [InlineData(GemmPath.Avx2, true)]
    [InlineData(GemmPath.Portable, true)]
    public void Threads_MatchAndAccumulate(GemmPath path, bool accumulate)
    {
        // Big enough (>= Gemm.ParallelThreshold multiply-adds) to take the parallel path on a
        // multi-core machine, with both split directions (m > n splits rows, n >= m splits
        // columns) and ragged stripes.
        var rnd = new Random(31 + (int)path);
        GemmPaths.With(path, () =>
        {
            foreach (var (tA, tB, m, n, k, threads) in new[]
            {
                (false, false, 197, 71, 80, 2),
                (true, true, 71, 197, 80, 2),
                (false, true, 33, 300, 110, 3),
                (true, false, 260, 40, 101, 2),
                (false, false, 300, 150, 90, 2),   // m > n, but stripes read A in place: split along n
            })
            {
                Assert.True((long)m * n * k >= Gemm.ParallelThreshold);
                RunCase(rnd, tA, tB, m, n, k, accumulate, threads, padStrides: true);
            }
        });
    }

    [Fact]
    public void ThreadedResultEqualsSingleThreaded_Bitwise()
    {
        // Each output element is computed by exactly one thread with the same kernel and the
        // same K order, so threading must not change results at all.
        var rnd = new Random(5);
        int m = 100, n = 130, k = 257;
        float[] a = RandomArray(rnd, m * k), b = RandomArray(rnd, k * n);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Gemm.Sgemm(false, false, m, n, k, a, 0, k, b, 0, n, c1, 0, n, false, 1);
        Gemm.Sgemm(false, false, m, n, k, a, 0, k, b, 0, n, c2, 0, n, false, 2);
        Assert.Equal(c1, c2);
    }

    [Theory]
    [InlineData(GemmPath.Native)]
    [InlineData(GemmPath.Avx2)]
    [InlineData(GemmPath.Portable)]
    public unsafe void PackedOnceA_GivesTheBitsOfAPackedPerCallA(GemmPath path)
    {
        // A packed whole (PackWholeA, as cached Winograd filters are) holds the very slivers the blocked loop packs per
        // call, so the products must agree bit for bit: across K slices (k > 256), row blocks (m > 144), ragged last
        // slivers of rows and columns, in-place and packed B, 1 and 2 threads, and accumulation into C.
        var rnd = new Random(11);
        GemmPaths.With(path, () =>
        {
            foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (16, 16, 256), (130, 16, 384), (300, 49, 130), (145, 700, 513), (48, 300, 260) })
            foreach (int threads in new[] { 1, 2 })
            foreach (bool accumulate in new[] { false, true })
            {
                float[] a = RandomArray(rnd, m * k), b = RandomArray(rnd, k * n), c0 = RandomArray(rnd, m * n);
                float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                Gemm.Sgemm(false, false, m, n, k, a, 0, k, b, 0, n, expected, 0, n, accumulate, threads);
                var isa = Gemm.Isa;
                var packed = new float[Gemm.PackedAFloats(m, k, isa)];
                fixed (float* pa = a, pp = packed, pb = b, pc = actual)
                {
                    Gemm.PackWholeA(pa, k, m, k, isa, pp);
                    Gemm.Sgemm(pp, isa, m, n, k, new DenseB(pb, n, false), pc, n, accumulate, threads);
                }
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                        $"{path} m{m} n{n} k{k} threads {threads} accumulate {accumulate}: element {i} is {actual[i]}, per-call packing gives {expected[i]}");
            }
        });
    }

    /// <summary>
    /// C = op(A)·B (+ C) with an engine switch on and off (restored after): the two must give the same bits, and C
    /// must have changed; with <paramref name="epilogue"/> the fused bias, scale, shift and ReLU.
    /// </summary>
    private static unsafe void AssertSwitchKeepsBits(Action<bool> set, bool saved, Random rnd, int m, int n, int k, bool transA, bool acc,
                                                     int threads, bool epilogue)
    {
        float[] a = RandomArray(rnd, m * k), b = RandomArray(rnd, k * n), c0 = RandomArray(rnd, m * n);
        float[] bias = RandomArray(rnd, m), scale = RandomArray(rnd, m), shift = RandomArray(rnd, m);
        float[] on = (float[])c0.Clone(), off = (float[])c0.Clone();
        try
        {
            foreach (var (value, c) in new[] { (true, on), (false, off) })
            {
                set(value);
                fixed (float* pa = a, pb = b, pc = c, pbias = bias, pscale = scale, pshift = shift)
                {
                    var map = epilogue ? new GemmEpilogue(pbias, pscale, pshift, relu: true) : default;
                    Gemm.Sgemm(transA, m, n, k, pa, transA ? m : k, new DenseB(pb, n, false), pc, n, acc, threads, map);
                }
            }
        }
        finally { set(saved); }
        Assert.Equal(off, on);
        Assert.NotEqual(c0, on);
    }

    [Avx512Fact]
    public void WideTileAgreesBitwiseWithSquareTile()
    {
        // The 8×32 tile (two B slivers, half an A sliver) runs the same FMA chain per output as the 16×16 one, so the
        // AVX-512 path must give the same bits with it on or off: packed and in-place A and B, ragged row slivers beside
        // full column pairs, odd sliver counts, several K slices, accumulation, two threads, and the fused bias, scale,
        // shift and ReLU epilogue.
        var rnd = new Random(78);
        foreach (var (m, n, k, acc, threads, epilogue) in new[]
        {
            (150, 300, 513, false, 1, false),  // packed A and B, m crosses MC, three K slices, 18 full slivers + 12 columns
            (61, 49, 700, true, 1, false),     // A in place (n <= 256): one pair, one sliver, one column; ragged 16-row sliver
            (64, 96, 300, false, 1, true),     // B in place (m <= 64): three pairs (the epilogue maps each 16×32 tile)
            (40, 80, 257, true, 2, false),     // B in place, ragged rows under the pairs, two threads
            (33, 1100, 70, false, 2, true),    // crosses the NC panel, one K slice
            (200, 64, 129, false, 2, true),    // exactly two pairs per stripe of m
        })
            AssertSwitchKeepsBits(on => Gemm.WideTile = on, Gemm.WideTile, rnd, m, n, k, false, acc, threads, epilogue);
    }

    [Avx2Fact]
    public void ExactEdgeRowsAgreeBitwiseWithPaddedTile()
    {
        // On AVX2 a ragged last row sliver of full width runs a kernel of exactly its 1 to 5 rows straight into C
        // (Gemm.ExactEdgeRows); the same FMA chain per output, so it must give the bits of the 6-row tile through the
        // stack buffer: every remainder of m mod 6, packed A and A read in place, B in place and packed, a ragged corner
        // tile, several K slices, an MC block boundary, accumulation, two threads, and the fused epilogue.
        var rnd = new Random(80);
        GemmPaths.With(GemmPath.Avx2, () =>
        {
            foreach (var (m, n, k, transA, acc, threads, epilogue) in new[]
            {
                (64, 96, 300, false, false, 1, true),   // 10 slivers and 4 rows; A and B in place; two K slices
                (61, 300, 513, true, true, 1, false),   // one row; packed A (transposed), B in place, three K slices
                (17, 49, 70, false, true, 2, true),     // five rows under 3 slivers and a one-column corner; two threads
                (250, 300, 257, false, false, 2, false),// packed B; the second MC block (106 rows) ends in 4
                (128, 1100, 70, false, true, 2, true),  // two rows; crosses the NC panel
                (33, 20, 9, true, false, 1, true),      // three rows; one sliver and a 4-column corner
            })
                AssertSwitchKeepsBits(on => Gemm.ExactEdgeRows = on, Gemm.ExactEdgeRows, rnd, m, n, k, transA, acc, threads, epilogue);
        });
    }

    [Fact]
    public void KIsCutIntoEqualSlicesOfAtMost320()
    {
        Assert.Equal(288, Gemm.SliceK(288));   // a 32-channel 3×3 layer: one slice, not 256 + 32
        Assert.Equal(320, Gemm.SliceK(320));
        Assert.Equal(161, Gemm.SliceK(321));   // two slices of 161 and 160
        Assert.Equal(288, Gemm.SliceK(576));   // two, not three
        Assert.Equal(288, Gemm.SliceK(1152));  // four, not five
        Assert.Equal(293, Gemm.SliceK(2048));  // seven, not eight
        Assert.Equal(7, Gemm.SliceK(7));
        Assert.Equal(256, Gemm.SliceK(288, balanced: false));  // the cut of KC-long slices and a remainder
        Assert.Equal(200, Gemm.SliceK(200, balanced: false));
    }

    [Fact]
    public void GemmsAroundTheSliceLimitsMatchTheReference()
    {
        // K lengths around the slice limits on every GEMM path, with accumulation into C and two threads: the blocked
        // loop must cover k exactly once whatever the cut. (The switch itself is not flipped here: other tests' GEMMs
        // may be running.)
        var rnd = new Random(83);
        foreach (var path in GemmPaths.All)
            GemmPaths.With(path, () =>
            {
                foreach (int k in new[] { 255, 257, 288, 320, 321, 577, 641, 961 })
                    RunCase(rnd, k % 2 == 0, k % 3 == 0, 37, 45, k, accumulate: k % 4 == 1, threads: 2, padStrides: true);
            });
    }

    [Avx2Fact]
    public void HalfWidthTailAgreesBitwiseWithTheFullTileOnAvx2()
    {
        // On AVX2 a last column sliver of at most 8 columns runs the 6-row kernel at half width (Gemm.HalfWidthTail);
        // the same FMA chain per output, so it must give the bits of the full 16-column tile: tails of 1 to 8 columns
        // (and 9, which stays full), packed A and A read in place with a ragged last row sliver, B in place and packed,
        // K slices, accumulation, two threads, and the fused epilogue.
        var rnd = new Random(82);
        GemmPaths.With(GemmPath.Avx2, () =>
        {
            foreach (var (m, n, k, transA, acc, threads, epilogue) in new[]
            {
                (256, 196, 1152, false, false, 2, true), // the 3×3/s2 layer: a 4-column tail, A in place, five K slices
                (64, 49, 300, false, true, 1, true),     // a 7×7 plane: one column; ten slivers and four rows
                (61, 40, 513, true, true, 1, false),     // eight columns; packed (transposed) A with a one-row edge
                (17, 25, 70, false, false, 2, true),     // nine columns: the full tile; two threads
                (150, 1030, 257, false, true, 2, false), // six columns after the NC panel; the second MC block
                (33, 7, 9, true, false, 1, true),        // seven columns only
            })
                AssertSwitchKeepsBits(on => Gemm.HalfWidthTail = on, Gemm.HalfWidthTail, rnd, m, n, k, transA, acc, threads, epilogue);
        });
    }

    [Avx2Fact]
    public void StagedInPlaceBAgreesBitwiseWithReadingItInPlace()
    {
        // On AVX2 a B read in place whose rows would crowd L1 is copied per column sliver at its first row sliver
        // (Gemm.StageInPlaceB); the kernel sees the same floats, so the bits must be those of reading B in place: row
        // strides of 16 and of 64 L1 sets, K slices that do and do not stage, ragged row slivers, accumulation, two
        // threads, transposed A, and the fused epilogue.
        Assert.True(Gemm.StagesB(GemmIsa.Avx2, 1088, 256));   // 68 lines a row: 16 sets, 256 rows
        Assert.False(Gemm.StagesB(GemmIsa.Avx2, 1088, 44));   // a short last K slice fits
        Assert.False(Gemm.StagesB(GemmIsa.Avx2, 1040, 256));  // 65 lines a row: all 64 sets
        Assert.True(Gemm.StagesB(GemmIsa.Avx2, 576, 129));    // 36 lines a row: 16 sets
        Assert.False(Gemm.StagesB(GemmIsa.Avx512, 1088, 256));
        var rnd = new Random(81);
        GemmPaths.With(GemmPath.Avx2, () =>
        {
            foreach (var (m, n, k, transA, acc, threads, epilogue) in new[]
            {
                (64, 1088, 300, false, false, 1, true),  // staged first K slice, unstaged second (44 rows)
                (37, 576, 129, true, true, 2, true),     // staged; one-row edge; two threads; transposed A
                (61, 1040, 300, false, true, 1, false),  // line-shifted rows: read in place throughout
                (16, 2048, 513, false, true, 2, true),   // a 4 KiB-multiple stride: B packed whole, never staged
            })
                AssertSwitchKeepsBits(on => Gemm.StageInPlaceB = on, Gemm.StageInPlaceB, rnd, m, n, k, transA, acc, threads, epilogue);
        });
    }

    [Fact]
    public void RemainderCutAlongRowsAgreesBitwiseWithColumnStripes()
    {
        // Two stripes of n take whole tiles each and cut the columns left over along m (Gemm.BalancedRemainder); every
        // output is still the same FMA chain, so the bits must equal those of stripes over all columns: A in place and
        // packed, transposed A, several K slices, accumulation, a remainder of one to three slivers, a ragged row sliver,
        // and the fused bias, scale, shift and ReLU epilogue (whose rows the cut along m shifts).
        var rnd = new Random(79);
        foreach (var (m, n, k, transA, acc, epilogue) in new[]
        {
            (256, 196, 1152, false, false, true), // the 3×3/s2 layer's GEMM: 192 columns in stripes, 4 cut along m
            (150, 300, 513, true, true, false),   // packed A, 256 + 44 columns, a ragged 16-row sliver
            (130, 100, 70, false, true, true),    // one K slice, 64 + 36
            (512, 392, 300, false, false, true),  // N8 C512 7×7: 384 + 8
        })
            AssertSwitchKeepsBits(on => Gemm.BalancedRemainder = on, Gemm.BalancedRemainder, rnd, m, n, k, transA, acc, 2, epilogue);
        // And against the reference, through the public entry point.
        foreach (var (m, n, k) in new[] { (256, 196, 300), (131, 230, 77) })
            foreach (bool tA in new[] { false, true })
                RunCase(rnd, tA, false, m, n, k, accumulate: true, threads: 2, padStrides: true);
    }

    [Avx512Fact]
    public void Avx512AndAvx2KernelsAgreeBitwise()
    {
        // Both kernels compute every output as the same FMA chain over k (from zero or the bias, then + C), so the
        // 16-row kernel must reproduce the 6-row one exactly: packed and in-place A, ragged edges (last slivers of 1–8
        // columns run the 16-row kernel at half width), several K slices, both transposes, accumulation and two threads.
        var rnd = new Random(77);
        foreach (var (tA, tB, m, n, k, acc, threads) in new[]
        {
            (false, false, 150, 300, 513, false, 1),  // packed A (n > 256), m crosses MC, three K slices
            (false, false, 61, 49, 700, true, 1),     // A read in place (n <= 256), ragged 16-row sliver
            (true, false, 37, 90, 260, false, 2),
            (false, true, 200, 33, 129, true, 2),
            (true, true, 17, 517, 31, false, 1),
            (false, false, 70, 24, 300, true, 1),     // last sliver of 8 columns: the half-width (ymm) 16-row kernel
            (false, false, 70, 25, 300, false, 2),    // of 9: the full-width one
        })
        {
            float[] a = RandomArray(rnd, m * k), b = RandomArray(rnd, k * n), c0 = RandomArray(rnd, m * n);
            float[] native = (float[])c0.Clone(), avx2 = (float[])c0.Clone();
            int lda = tA ? m : k, ldb = tB ? k : n;
            GemmPaths.With(GemmPath.Native, () =>
            {
                Assert.Equal(GemmIsa.Avx512, Gemm.Isa);
                Gemm.Sgemm(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, native, 0, n, acc, threads);
            });
            GemmPaths.With(GemmPath.Avx2, () =>
            {
                Assert.Equal(GemmIsa.Avx2, Gemm.Isa);
                Gemm.Sgemm(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, avx2, 0, n, acc, threads);
            });
            Assert.Equal(avx2, native);
        }
    }

    [Theory]
    [InlineData(GemmPath.Native)]
    [InlineData(GemmPath.Portable)]
    public void KZero_ZeroesOrLeavesC(GemmPath path)
    {
        GemmPaths.With(path, () =>
        {
            var c = new float[] { 1, 2, 3, 4, 5, 6, 7 };
            // k = 0, not accumulating: the 2×3 block (ldc 3, offset 1) becomes zero.
            Gemm.Sgemm(false, false, 2, 3, 0, Array.Empty<float>(), 0, 1, Array.Empty<float>(), 0, 3, c, 1, 3, false, 2);
            Assert.Equal(new float[] { 1, 0, 0, 0, 0, 0, 0 }, c);

            c = new float[] { 1, 2, 3, 4, 5, 6, 7 };
            Gemm.Sgemm(true, true, 2, 3, 0, Array.Empty<float>(), 0, 2, Array.Empty<float>(), 0, 1, c, 1, 3, true, 1);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7 }, c);
        });
    }

    [Fact]
    public void KOne_IsOuterProduct()
    {
        var rnd = new Random(11);
        foreach (var path in GemmPaths.All)
            GemmPaths.With(path, () =>
            {
                RunCase(rnd, false, false, 17, 33, 1, accumulate: false, threads: 1, padStrides: true);
                RunCase(rnd, true, true, 33, 17, 1, accumulate: true, threads: 2, padStrides: true);
            });
    }

    [Fact]
    public void EmptyMOrN_IsNoOp()
    {
        var c = new float[] { 1, 2, 3 };
        Gemm.Sgemm(false, false, 0, 3, 4, new float[12], 0, 4, new float[12], 0, 3, c, 0, 3, false, 2);
        Gemm.Sgemm(false, false, 3, 0, 4, new float[12], 0, 4, new float[12], 0, 1, c, 0, 1, false, 2);
        Assert.Equal(new float[] { 1, 2, 3 }, c);
    }

    [Fact]
    public unsafe void PointerOverload_MatchesArrayOverload()
    {
        var rnd = new Random(21);
        int m = 33, n = 17, k = 65;
        float[] a = RandomArray(rnd, k * m), b = RandomArray(rnd, n * k);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Gemm.Sgemm(true, true, m, n, k, a, 0, m, b, 0, k, c1, 0, n, false, 1);
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c2)
            Gemm.Sgemm(true, true, m, n, k, pa, m, pb, k, pc, n, false, 1);
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var x = new float[16];
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, 4, 4, 4, x, 0, 3, x, 0, 4, x, 0, 4, false, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, -1, 4, 4, x, 0, 4, x, 0, 4, x, 0, 4, false, 1));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, x, 1, 4, x, 0, 4, x, 0, 4, false, 1));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, x, 0, 4, x, 0, 4, new float[15], 0, 4, false, 1));
    }
}
