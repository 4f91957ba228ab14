using System.Diagnostics;
using ConvKit.Kernels;

namespace ConvKit.Bench;

/// <summary>
/// The three passes of single training-mode 3×3 convolutions (forward, data gradient, weight gradient), each timed on its
/// own through the kernel boundary: where a training step's conv time goes. tools/bench/peer_phases.py times PyTorch's.
/// </summary>
internal static class Phases
{
    public static readonly (int N, int C, int H, int K)[] Shapes = [(64, 1, 28, 32), (64, 32, 14, 64), (64, 64, 7, 128), (8, 64, 56, 64), (16, 128, 28, 128)];

    /// <summary>
    /// Each shape's passes under Auto, then with <paramref name="forced"/> (when given) forced for comparison; with
    /// <paramref name="pass"/> (forward, data or weight: for profiles) that pass only.
    /// </summary>
    public static void Run(string? only, string? pass, double budgetMs, ConvAlgorithm? forced)
    {
        RunAll(only, pass, budgetMs, null);
        if (forced is { } f)
            using (Engine.Force(f)) RunAll(only, pass, budgetMs, f);
    }

    private static void RunAll(string? only, string? pass, double budgetMs, ConvAlgorithm? forced)
    {
        foreach (var (n, c, h, k) in Shapes)
        {
            string name = $"n{n} c{c} {h}x{h} k{k}";
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var p = new Conv2dParams
            {
                N = n, CIn = c, H = h, W = h, COut = k, KH = 3, KW = 3, StrideH = 1, StrideW = 1, PadTop = 1, PadLeft = 1,
                DilationH = 1, DilationW = 1, Groups = 1, OutH = h, OutW = h,
            };
            var gen = new Random(0);
            float[] Data(long len) => Enumerable.Range(0, (int)len).Select(_ => (float)(gen.NextDouble() * 2 - 1)).ToArray();
            var x = Data((long)n * c * h * h); var w = Data((long)k * c * 9); var y = Data((long)n * k * h * h);
            var dx = new float[x.Length]; var dw = new float[w.Length]; var yo = new float[y.Length];
            double Pass(string which, Action f) => pass is null || pass == which ? Median(f, budgetMs) : double.NaN;
            double fwd = Pass("forward", () => ConvKernels.Forward(x, w, [], yo, p, inference: false));
            double adj = Pass("data", () => ConvKernels.Adjoint(y, w, [], dx, p, inference: false));
            double wg = Pass("weight", () => ConvKernels.WeightGrad(x, y, dw, p));
            Console.WriteLine($"{(forced is null ? "" : forced + " "),-11}{name,-22} forward {fwd,8:F3} ms ({ConvKernels.Choose(p, false)})  data grad {adj,8:F3} ms  weight grad {wg,8:F3} ms ({ConvKernels.Choose(p, false, true)})");
        }
    }

    private static double Median(Action f, double budgetMs)
    {
        // Warm past tiered compilation (30 calls, then the background tier-1 compile) before timing.
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 40 || warm.ElapsedMilliseconds < 400; i++) f();
        var t = new List<double>();
        var total = Stopwatch.StartNew();
        while (t.Count < 5 || (total.Elapsed.TotalMilliseconds < budgetMs / 3 && t.Count < 200))
        {
            long t0 = Stopwatch.GetTimestamp();
            f();
            t.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        t.Sort();
        return t[t.Count / 2];
    }
}
