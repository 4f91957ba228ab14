using System.Diagnostics;
using ConvKit.Kernels.Cpu;

namespace ConvKit.Bench;

/// <summary>
/// Paired A/B of one engine switch in one process: each workload runs with the switch off and on, alternating call by
/// call, and prints both medians and off/on (above 1: the switch makes it faster). On a shared host whose speed drifts,
/// this pairing is what separates a few percent from noise; cross-process comparisons are not.
/// </summary>
internal static class PairedAb
{
    private static readonly int DefaultInPlaceRows = Gemm.InPlaceBMaxRows;
    private static readonly int DefaultDirectA = Gemm.DirectAMaxColumns;

    /// <summary>The switches, each the library's default when on.</summary>
    private static readonly Dictionary<string, Action<bool>> Switches = new()
    {
        ["wide"] = on => Gemm.WideTile = on,            // the 8×32 AVX-512 tile
        ["grid"] = on => Im2ColGemmConv.GridForwards = on, // the padded-grid GEMM of few-row narrow layers
        ["flip"] = on => Im2ColGemmConv.FlipInPacking = on, // the adjoint's A packed from the weights
        ["runs"] = on => Im2ColPanel.Runs512 = on,       // row-crossing slivers as masked 512-bit run loads, not gathers
        ["split"] = on => Gemm.BalancedRemainder = on,   // the columns past whole tiles per stripe cut along m
        ["inplace"] = on => Gemm.InPlaceBMaxRows = on ? DefaultInPlaceRows : 0, // few-row GEMMs read a row-major B in place
        ["stage"] = on => Gemm.StageInPlaceB = on,      // AVX2: a B sliver read in place copied to L1 at its first row sliver
        ["edges"] = on => Gemm.ExactEdgeRows = on,      // AVX2: a ragged last row sliver on a kernel of exactly its rows
        ["wgrad2"] = on => F2x2.WeightGradients = on,   // Auto's F(2×2) weight gradients (off: im2col's)
        ["tail"] = on => Gemm.HalfWidthTail = on,       // a last sliver of at most 8 columns on a half-width kernel
        // K cut into equal slices of at most 320, not 256 and a remainder (filters the cache packed under one cut are then
        // read under the other: the timing holds, the outputs do not)
        ["slices"] = on => Gemm.BalancedSlices = on,
        ["chsum"] = on => Tensor.ParallelSums = on, // per-channel sums over [N, C, …] with channels in parallel
        ["ranges"] = on => Parallelism.SplitRanges = on, // element-wise passes, copies and gradient sums in parallel ranges
        ["wgchunks"] = on => Im2ColGemmConv.ChunkWeightGrads = on, // small per-image weight-gradient GEMMs in parallel chunks of images
        ["masks"] = on => Im2ColPanel.TapMasks = on,   // 'same' stride-1 im2col slivers take their masks per tap, not per row
        ["rowwino"] = on => RowWinogradConv.Enabled = on, // Auto's row Winograd F(3, 4) for stem-like stride-2 inference layers
        ["f2c32"] = on => F2x2.ForwardChannels = on ? 32 : 64, // Auto's F(2×2) forwards and adjoints from 32 input channels (off: from 64, the old rule)
        ["wino4"] = on => F4x4.InferenceForwards = on, // Auto's F(4×4) for inference forwards (off: im2col, or F(2×2) where it wins)
        ["directa"] = on => Gemm.DirectAMaxColumns = on ? DefaultDirectA : 0, // narrow stripes read a row-major A in place
    };

    public static void Run(string name, string? only, double budgetMs)
    {
        if (!Switches.TryGetValue(name, out var set))
            throw new ArgumentException($"--ab: expected one of {string.Join(", ", Switches.Keys)}, got '{name}'");
        foreach (var w in Workloads.All(only).Concat(Training(only)).Concat(FewChannels(only)))
        {
            var run = w.Setup();
            set(false); run(); set(true); run();
            var off = new List<double>(); var on = new List<double>();
            // As many pairs as fit the budget, at least 3 (the training steps) and at most 200 (the single layers).
            int n = (int)Math.Clamp(budgetMs / (2 * Math.Max(0.01, Time(run))), 3, 200);
            for (int i = 0; i < n; i++)
            {
                set(false); off.Add(Time(run));
                set(true); on.Add(Time(run));
            }
            double a = Median(off), b = Median(on);
            Console.WriteLine($"{w.Name,-48} off {a,9:F3} ms  on {b,9:F3} ms  off/on {a / b:F3}  ({n} pairs)");
        }
        set(true);
    }

    /// <summary>Single layers' forward and backward in training mode (the data gradient runs the flipped forward).</summary>
    private static IEnumerable<Workloads.Workload> Training(string? only)
    {
        foreach (var (n, c, h, k) in new[] { (64, 32, 14, 64), (64, 64, 7, 128), (64, 1, 28, 32), (64, 16, 28, 32), (1, 512, 7, 512), (8, 512, 7, 512), (1, 256, 14, 256), (64, 32, 28, 64), (8, 32, 28, 32), (4, 32, 56, 48) })
        {
            string name = $"conv2d train n{n} c{c} {h}x{h} k{k} 3x3";
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            yield return new(name, () =>
            {
                var gen = new Generator(0);
                var x = Tensor.Randn([n, c, h, h], gen).RequiresGrad_();
                var w = Tensor.Randn([k, c, 3, 3], gen).RequiresGrad_();
                return () =>
                {
                    using (TensorScope.BeginTraining())
                    {
                        // Zeroed in place as an optimizer's zero_grad(set_to_none=False) does: a fresh 9 MiB gradient
                        // per call measured the GC's decommit and page faults (N1 C512 7×7: 2.4 ms after other
                        // workloads, 7.5 ms alone, and a 0.87 off/on bias between two identical settings).
                        x.Grad?.Fill(0f); w.Grad?.Fill(0f);
                        F.Conv2d(x, w, padding: 1).Sum().Backward();
                    }
                };
            }, 0);
        }
    }

    /// <summary>Inference forwards of 3×3 'same' layers with few input channels on large planes, where F(4×4)'s k is short.</summary>
    private static IEnumerable<Workloads.Workload> FewChannels(string? only)
    {
        foreach (var (n, c, h, k) in new[] { (1, 8, 112, 64), (1, 12, 112, 64), (1, 16, 112, 64), (1, 16, 56, 64), (1, 24, 112, 64), (1, 32, 112, 32), (1, 32, 56, 64), (4, 16, 56, 32) })
        {
            string name = $"conv2d infer n{n} c{c} {h}x{h} k{k} 3x3";
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            yield return new(name, () =>
            {
                var gen = new Generator(0);
                var x = Tensor.Randn([n, c, h, h], gen);
                var w = Tensor.Randn([k, c, 3, 3], gen);
                return () => { using (Autograd.NoGrad()) using (TensorScope.Begin()) F.Conv2d(x, w, padding: 1); };
            }, 0);
        }
    }

    private static double Time(Action run)
    {
        long t0 = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private static double Median(List<double> v)
    {
        v.Sort();
        return v[v.Count / 2];
    }
}
