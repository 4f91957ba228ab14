using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Bench;

/// <summary>
/// The machine's FMA peak at the width ConvKit's GEMM runs: 16 independent Vector512 FMA chains per thread where the CPU
/// has AVX-512 (on Zen 5 or Intel cores with two 512-bit FMA pipes that is twice the Vector256 rate; on Zen 4, which
/// splits a 512-bit FMA in two, the same), else 12 Vector256 chains; all threads at once.
/// </summary>
internal static class FmaPeak
{
    /// <summary>
    /// GFLOP/s of <paramref name="threads"/> dedicated threads released together by a barrier: the best of 5, since a
    /// shared host's other tenants only ever slow the loop down (per-round medians of 214-450 GFLOP/s were seen on one
    /// machine whose loop reaches 427-450), and a peak taken low would flatter every % of it.
    /// </summary>
    public static double Measure(int threads)
    {
        if (!Fma.IsSupported) return double.NaN;
        const long iterations = 10_000_000;
        Run(1000);
        var results = new List<double>();
        for (int round = 0; round < 5; round++)
        {
            using var start = new Barrier(threads + 1);
            var seconds = new double[threads];
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                var sw = Stopwatch.StartNew();
                Run(iterations);
                seconds[t] = sw.Elapsed.TotalSeconds;
            })).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            workers.ForEach(w => w.Join());
            results.Add((double)threads * iterations * FlopsPerIteration / seconds.Max() / 1e9);
        }
        return results.Max();
    }

    /// <summary>Whether the peak is Vector512's: ConvKit's GEMM runs its AVX-512 kernels wherever the CPU has AVX-512F.</summary>
    public static bool Wide => Avx512F.IsSupported;

    private static int FlopsPerIteration => Wide ? 16 * 16 * 2 : 12 * 8 * 2;

    private static float Run(long n) => Wide ? Chains512(n) : Chains(n);

    private static float Chains512(long n)
    {
        var a = Vector512.Create(0.999f); var b = Vector512.Create(1e-7f);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
                         c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b); c2 = Avx512F.FusedMultiplyAdd(c2, a, b);
            c3 = Avx512F.FusedMultiplyAdd(c3, a, b); c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
            c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b); c8 = Avx512F.FusedMultiplyAdd(c8, a, b);
            c9 = Avx512F.FusedMultiplyAdd(c9, a, b); c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
            c12 = Avx512F.FusedMultiplyAdd(c12, a, b); c13 = Avx512F.FusedMultiplyAdd(c13, a, b); c14 = Avx512F.FusedMultiplyAdd(c14, a, b);
            c15 = Avx512F.FusedMultiplyAdd(c15, a, b);
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        return s.GetElement(0);
    }

    private static float Chains(long n)
    {
        var a = Vector256.Create(0.999f); var b = Vector256.Create(1e-7f);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default,
                         c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b); c2 = Fma.MultiplyAdd(c2, a, b);
            c3 = Fma.MultiplyAdd(c3, a, b); c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b); c8 = Fma.MultiplyAdd(c8, a, b);
            c9 = Fma.MultiplyAdd(c9, a, b); c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return s.GetElement(0);
    }
}
