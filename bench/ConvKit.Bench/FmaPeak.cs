using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Bench;

/// <summary>The machine's FMA peak: 12 independent Vector256 FMA chains per thread, all threads at once.</summary>
internal static class FmaPeak
{
    /// <summary>GFLOP/s of <paramref name="threads"/> dedicated threads released together by a barrier (median of 5).</summary>
    public static double Measure(int threads)
    {
        if (!Fma.IsSupported) return double.NaN;
        const long iterations = 10_000_000;
        Chains(1000);
        var results = new List<double>();
        for (int round = 0; round < 5; round++)
        {
            using var start = new Barrier(threads + 1);
            var seconds = new double[threads];
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                var sw = Stopwatch.StartNew();
                Chains(iterations);
                seconds[t] = sw.Elapsed.TotalSeconds;
            })).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            workers.ForEach(w => w.Join());
            results.Add((double)threads * iterations * 12 * 8 * 2 / seconds.Max() / 1e9);
        }
        results.Sort();
        return results[results.Count / 2];
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
