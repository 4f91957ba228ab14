using ConvKit.Kernels.Cpu;
using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The Winograd filter cache: what it serves must be bit for bit what a fresh transform gives, for the weights as they
/// are now, whatever happened to them between calls; and it must stay within its budget. The class sets the
/// process-wide budget and clears the cache, so it runs alone.
/// </summary>
[Collection(Name)]
public class WinogradFilterCacheTests
{
    public const string Name = "Winograd filter cache";

    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class Definition;

    /// <summary>N1 C128 14×14: a plane only the cache puts on Winograd (16 tiles, 128 channels).</summary>
    private static (Tensor X, Tensor W, Tensor B) Layer(int seed, int n = 1, int c = 128, int k = 128, int h = 14, int w = 14)
    {
        var g = new Generator((ulong)seed);
        return (Tensor.Randn([n, c, h, w], g), Tensor.Randn([k, c, 3, 3], g), Tensor.Randn([k], g));
    }

    private static float[] Auto(Tensor x, Tensor w, Tensor? b, int padding = 1, int groups = 1)
    {
        using (Autograd.NoGrad()) return F.Conv2d(x, w, b, padding: padding, groups: groups).ToArray();
    }

    private static float[] Forced(ConvAlgorithm algorithm, Tensor x, Tensor w, Tensor? b, int padding = 1, int groups = 1)
    {
        using (Engine.Force(algorithm)) return Auto(x, w, b, padding, groups);
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: element {i} is {actual[i]}, a fresh F(4×4) transform gives {expected[i]}");
    }

    [Theory]
    // (N, C, K, H, W, pad, groups): planes only the cache makes win, planes F(4×4) won already, odd sizes, groups,
    // K > 256 output channels (two MC blocks of packed rows), C > 256 (two K slices of the packed filters), C = 130
    // (a ragged 16-row sliver of A), padding 0 and 2.
    [InlineData(1, 128, 128, 14, 14, 1, 1)]
    [InlineData(1, 256, 136, 13, 15, 1, 1)]
    [InlineData(1, 384, 130, 16, 16, 1, 1)]
    [InlineData(2, 130, 300, 9, 11, 1, 1)]
    [InlineData(1, 64, 64, 40, 37, 1, 1)]
    [InlineData(1, 256, 256, 18, 18, 0, 2)]
    [InlineData(3, 160, 144, 12, 17, 2, 1)]
    public void CachedFiltersGiveTheBitsOfAFreshTransformOnEveryCall(int n, int c, int k, int h, int w, int pad, int groups)
    {
        WinogradFilterCache.Clear();
        var (x, wt, b) = Layer(n * 1000 + c + k + h, n, c, k / groups * groups, h, w);
        wt = wt.Narrow(1, 0, c / groups).Contiguous();
        var fresh = Forced(ConvAlgorithm.Winograd, x, wt, b, pad, groups);
        long hits = WinogradFilterCache.Hits;
        var first = Auto(x, wt, b, pad, groups);
        Assert.Equal(hits, WinogradFilterCache.Hits);
        var second = Auto(x, wt, b, pad, groups);
        var third = Auto(x, wt, b, pad, groups);
        Assert.Equal(hits + 2, WinogradFilterCache.Hits);
        AssertSameBits(fresh, first, "first call (transform, then kept)");
        AssertSameBits(fresh, second, "second call (cached filters)");
        AssertSameBits(fresh, third, "third call (cached filters)");
        // And that is the convolution, within im2col's reach of the reference (Winograd's own bound is WinogradConvTests').
        var reference = Forced(ConvAlgorithm.Reference, x, wt, b, pad, groups);
        for (int i = 0; i < reference.Length; i++)
            Assert.True(Math.Abs(reference[i] - second[i]) <= 2e-3 * Math.Max(1, Math.Abs(reference[i])), $"element {i}: {second[i]} against {reference[i]}");
    }

    [Fact]
    public void TheCachedPathAlsoRunsUnderThePortableAndAvx2Kernels()
    {
        var (x, w, b) = Layer(7);
        foreach (var (name, set) in new (string, Action<bool>)[] { ("portable", v => Gemm.ForceScalar = v), ("AVX2", v => Gemm.ForceAvx2 = v) })
        {
            WinogradFilterCache.Clear();
            set(true);
            GemmIsa isa;
            try
            {
                isa = Gemm.Isa;
                var fresh = Forced(ConvAlgorithm.Winograd, x, w, b);
                Auto(x, w, b);
                long hits = WinogradFilterCache.Hits;
                AssertSameBits(fresh, Auto(x, w, b), name);
                Assert.Equal(hits + 1, WinogradFilterCache.Hits);
            }
            finally
            {
                set(false);
            }
            // Filters packed for one micro-kernel are not served to another: the next call under the CPU's own ISA
            // transforms again, unless that ISA is the one the entry was packed for (AVX2 on a CPU without AVX-512).
            long before = WinogradFilterCache.Hits;
            AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w, b), Auto(x, w, b), $"default ISA after the {name} entry");
            Assert.Equal(Gemm.Isa == isa ? before + 1 : before, WinogradFilterCache.Hits);
        }
    }

    [Fact]
    public void AWeightChangedInPlaceIsNeverServedStaleFilters()
    {
        WinogradFilterCache.Clear();
        var (x, w, b) = Layer(3);
        Auto(x, w, b);
        Auto(x, w, b);
        long hits = WinogradFilterCache.Hits;

        // One tap of one filter, through the public indexer: the smallest change a caller can make.
        w[5, 17, 2, 1] = w[5, 17, 2, 1] + 0.25f;
        AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w, b), Auto(x, w, b), "after one tap changed");
        Assert.Equal(hits, WinogradFilterCache.Hits);

        // The last float of the storage, which a comparison split into parts must still reach.
        w[127, 127, 2, 2] = -w[127, 127, 2, 2];
        AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w, b), Auto(x, w, b), "after the last tap changed");

        // An optimizer step writes every weight in place.
        var p = new ConvKit.Nn.Parameter(w);
        p.Grad = Tensor.OnesLike(w);
        new ConvKit.Optim.SGD([p], lr: 0.01).Step();
        AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w, b), Auto(x, w, b), "after an SGD step");
        Assert.Equal(hits, WinogradFilterCache.Hits);

        // Unchanged since: served from the cache again.
        AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w, b), Auto(x, w, b), "unchanged after the step");
        Assert.Equal(hits + 1, WinogradFilterCache.Hits);
    }

    [Fact]
    public void WeightsSharingAStorageAreToldApartByOffset()
    {
        WinogradFilterCache.Clear();
        var (x, _, _) = Layer(4);
        var both = Tensor.Randn([2, 128, 128, 3, 3], new Generator(5));
        Tensor w0 = both.Select(0, 0), w1 = both.Select(0, 1);
        long hits = WinogradFilterCache.Hits;
        for (int round = 0; round < 2; round++)
        {
            AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w0, null), Auto(x, w0, null), $"first half, round {round}");
            AssertSameBits(Forced(ConvAlgorithm.Winograd, x, w1, null), Auto(x, w1, null), $"second half, round {round}");
        }
        // Each half keeps its own entry: the second round hits twice (keyed by storage alone, each would evict the other).
        Assert.Equal(hits + 2, WinogradFilterCache.Hits);
    }

    [Fact]
    public void TheBudgetBoundsTheCacheAndZeroTurnsItOff()
    {
        long saved = Engine.FilterCacheBytes;
        try
        {
            WinogradFilterCache.Clear();
            var (x, _, b) = Layer(6);
            var weights = Enumerable.Range(0, 3).Select(i => Tensor.Randn([128, 128, 3, 3], new Generator((ulong)(10 + i)))).ToArray();
            // One N1 C128 → 128 entry: the copy (0.56 MiB) and F(4×4) filters packed in the micro-kernel's slivers
            // (2.25 MiB in 16-row slivers; more in 6-row ones, whose 128 rows pad to 132), so measured on this CPU.
            Engine.FilterCacheBytes = 64L << 20;
            Auto(x, weights[0], b);
            long entry = WinogradFilterCache.Bytes, least = 4L * 128 * 128 * 9 + 4L * 36 * 128 * 128;
            Assert.InRange(entry, least, least * 11 / 10);
            WinogradFilterCache.Clear();
            Engine.FilterCacheBytes = 2 * entry + 1000;
            foreach (var w in weights) Auto(x, w, b);
            Assert.InRange(WinogradFilterCache.Bytes, 1, Engine.FilterCacheBytes);

            // The first weights to arrive are kept; the third finds no room and runs without the cache (same bits), and
            // keeps finding none: it does not evict the others (a model whose layers need more than the budget would
            // otherwise evict, every pass, what the next pass needs first).
            long hits = WinogradFilterCache.Hits;
            for (int round = 0; round < 2; round++)
            {
                Auto(x, weights[0], b);
                Auto(x, weights[1], b);
                AssertSameBits(Forced(ConvAlgorithm.Winograd, x, weights[2], b), Auto(x, weights[2], b), $"no room, round {round}");
            }
            Assert.Equal(hits + 4, WinogradFilterCache.Hits);

            // Weights that change are made again in their own place.
            weights[1][0, 0, 0, 0] = 3f;
            Auto(x, weights[1], b);
            Auto(x, weights[1], b);
            Auto(x, weights[0], b);
            Assert.Equal(hits + 6, WinogradFilterCache.Hits);

            // A lower budget than the entries hold empties the cache before anything is kept again.
            Engine.FilterCacheBytes = entry + 1000;
            AssertSameBits(Forced(ConvAlgorithm.Winograd, x, weights[2], b), Auto(x, weights[2], b), "after the budget was lowered");
            Auto(x, weights[2], b);
            Assert.Equal(hits + 7, WinogradFilterCache.Hits);
            Assert.InRange(WinogradFilterCache.Bytes, 1, Engine.FilterCacheBytes);

            // Too small for any entry: nothing is kept, and the layer still runs on Winograd with the same bits.
            WinogradFilterCache.Clear();
            Engine.FilterCacheBytes = 1 << 20;
            AssertSameBits(Forced(ConvAlgorithm.Winograd, x, weights[0], b), Auto(x, weights[0], b), "no room");
            Assert.Equal(0, WinogradFilterCache.Bytes);

            // Off: Auto goes back to im2col for this plane.
            Engine.FilterCacheBytes = 0;
            AssertSameBits(Forced(ConvAlgorithm.Im2ColGemm, x, weights[0], b), Auto(x, weights[0], b), "cache off");
            Assert.Equal(0, WinogradFilterCache.Bytes);
            Assert.Throws<ArgumentException>(() => Engine.FilterCacheBytes = -1);
        }
        finally
        {
            Engine.FilterCacheBytes = saved;
        }
    }

    [Fact]
    public void ConcurrentCallersGetTheSameBits()
    {
        // Four threads run inference on two weights at once, one of which a fifth keeps rewriting between two values:
        // every result must be the fresh transform's for the weights the call saw.
        WinogradFilterCache.Clear();
        var (x, w, b) = Layer(12);
        var (_, v, _) = Layer(13);
        var expectedW = Forced(ConvAlgorithm.Winograd, x, w, b);
        var vA = v.ToArray();
        var vB = vA.Select(f => f * 0.5f).ToArray();
        var expectedA = Forced(ConvAlgorithm.Winograd, x, v, b);
        var expectedB = Forced(ConvAlgorithm.Winograd, x, Tensor.FromArray(vB, v.Shape.ToArray()), b);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 12; i++)
            {
                var y = Auto(x, w, b);
                if (!y.AsSpan().SequenceEqual(expectedW)) failures.Add($"thread {t} call {i}: weights w");
            }
        })).ToList();
        foreach (var t in threads) t.Start();
        // The rewritten weight is used by this thread only, so each call's expected result is known.
        for (int i = 0; i < 12; i++)
        {
            var src = i % 2 == 0 ? vA : vB;
            for (int j = 0; j < src.Length; j++) v.Storage[v.Offset + j] = src[j];
            var y = Auto(x, v, b);
            if (!y.AsSpan().SequenceEqual(i % 2 == 0 ? expectedA : expectedB)) failures.Add($"rewritten weight, call {i}");
        }
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
    }

    [Fact]
    public void OnlyInferenceCallsUseTheCache()
    {
        WinogradFilterCache.Clear();
        var (x, w, b) = Layer(8);
        w.RequiresGrad = true;
        // A forward that records a backward keeps the training rule (im2col on this plane) and leaves the cache empty.
        var y = F.Conv2d(x, w, b, padding: 1);
        Assert.Equal(0, WinogradFilterCache.Bytes);
        AssertSameBits(Forced(ConvAlgorithm.Im2ColGemm, x, w, b), y.Detach().ToArray(), "training forward");
        // Small planes of few channels stay on im2col even in inference (F(4×4) breaks even there).
        var (xs, ws, bs) = Layer(9, c: 64, k: 64);
        AssertSameBits(Forced(ConvAlgorithm.Im2ColGemm, xs, ws, bs), Auto(xs, ws, bs), "C64 14×14");
        Assert.Equal(0, WinogradFilterCache.Bytes);
    }
}
