using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>The reference workloads of shared/peer/peer_bench.py, named exactly as that script prints them.</summary>
internal static class Workloads
{
    /// <summary>
    /// One timed workload; <see cref="Setup"/> builds its inputs and model only when it is selected and returns the
    /// timed action. <see cref="Flops"/> is 0 where GFLOP/s is not meaningful (whole models).
    /// </summary>
    public sealed record Workload(string Name, Func<Action> Setup, double Flops, int Repeats = 7, int Warmup = 2);

    /// <summary>Every workload, or those whose name contains <paramref name="filter"/>.</summary>
    public static IEnumerable<Workload> All(string? filter = null) =>
        Sgemm().Concat(Ops()).Concat(Models()).Where(w => filter is null || w.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    private static readonly Generator Data = new(0);

    /// <summary>Square float32 matrix products through the public <see cref="Tensor.Matmul"/>, against numpy/OpenBLAS (tools/bench/peer_sgemm.py).</summary>
    private static IEnumerable<Workload> Sgemm()
    {
        foreach (int n in new[] { 512, 1024, 2048 })
            yield return new($"sgemm n{n}", () =>
            {
                var a = Tensor.Randn([n, n], Data); var b = Tensor.Randn([n, n], Data);
                // In a TensorScope, as the other workloads: the 4–16 MiB product reuses pooled storage instead of
                // fresh pages each call (numpy's allocator likewise hands back the block it freed).
                return () => { using (TensorScope.Begin()) a.Matmul(b); };
            }, 2.0 * n * n * n, n < 2048 ? 7 : 5);
    }

    private static IEnumerable<Workload> Ops()
    {
        foreach (var (n, c, h, k, ks, s, p) in new[] { (1, 64, 56, 64, 3, 1, 1), (8, 64, 56, 64, 3, 1, 1), (1, 256, 14, 256, 3, 1, 1),
                                                       (1, 3, 224, 64, 7, 2, 3), (1, 256, 56, 64, 1, 1, 0), (1, 128, 28, 256, 3, 2, 1) })
        {
            int o = (h + 2 * p - ks) / s + 1;
            yield return new($"conv2d n{n} c{c} {h}x{h} k{k} {ks}x{ks} s{s}", () =>
            {
                var x = Tensor.Randn([n, c, h, h], Data);
                var w = Tensor.Randn([k, c, ks, ks], Data);
                return () => { using (TensorScope.Begin()) F.Conv2d(x, w, stride: s, padding: p); };
            }, 2.0 * n * k * o * o * c * ks * ks);
        }
        yield return new("conv2d depthwise c32 112x112 3x3", () =>
        {
            var x = Tensor.Randn([1, 32, 112, 112], Data); var w = Tensor.Randn([32, 1, 3, 3], Data);
            return () => { using (TensorScope.Begin()) F.Conv2d(x, w, padding: 1, groups: 32); };
        }, 2.0 * 32 * 112 * 112 * 9);
        yield return new("conv_transpose2d c256->128 28x28 k2 s2", () =>
        {
            var x = Tensor.Randn([1, 256, 28, 28], Data); var w = Tensor.Randn([256, 128, 2, 2], Data);
            return () => { using (TensorScope.Begin()) F.ConvTranspose2d(x, w, stride: 2); };
        }, 2.0 * 256 * 128 * 4 * 28 * 28);
        yield return new("conv_transpose2d fcn c21 10x15 k64 s32 p16", () =>
        {
            var x = Tensor.Randn([1, 21, 10, 15], Data); var w = Tensor.Randn([21, 21, 64, 64], Data);
            return () => { using (TensorScope.Begin()) F.ConvTranspose2d(x, w, stride: 32, padding: 16); };
        }, 2.0 * 21 * 21 * 64 * 64 * 150);
    }

    private static IEnumerable<Workload> Models()
    {
        yield return Inference("resnet18 forward b1 224", () => ResNet.ResNet18(), [1, 3, 224, 224]);
        yield return Inference("fcn-resnet18 forward b1 320x480", () => new FcnResNet18(), [1, 3, 320, 480]);
        yield return Inference("seed-unet forward b1 128x128", () => new UNet(), [1, 3, 128, 128], repeats: 5);
        yield return TrainStep("seed-unet train step b2 128x128", () => new UNet(), [2, 3, 128, 128], [2, 128, 128], 2, repeats: 5, warmup: 1);
        yield return TrainStep("resnet18 train step b8 224", () => ResNet.ResNet18(), [8, 3, 224, 224], [8], 1000, repeats: 5, warmup: 1);
        yield return TrainStep("small-se-cnn train step b64 28x28", () => new SmallSECnn(), [64, 1, 28, 28], [64], 10);
    }

    private static Module Build(Func<Module> factory)
    {
        using (Generator.Use(new Generator(0))) return factory();
    }

    private static LongTensor Labels(int[] shape, int classes)
    {
        var u = Tensor.Rand([shape.Aggregate(1, (a, b) => a * b)], Data).ToArray();
        return LongTensor.FromArray(u.Select(v => (long)Math.Min(classes - 1, (int)(v * classes))).ToArray(), shape);
    }

    private static Workload Inference(string name, Func<Module> factory, int[] input, int repeats = 7) => new(name, () =>
    {
        var model = Build(factory);
        model.Eval();
        var x = Tensor.Randn(input, Data);
        return () => { using (Autograd.NoGrad()) using (TensorScope.Begin()) model.Forward(x); };
    }, 0, repeats);

    /// <summary>The peer's train_step: SGD(lr 0.01, momentum 0.9), zero_grad, cross-entropy, backward, step.</summary>
    private static Workload TrainStep(string name, Func<Module> factory, int[] input, int[] labels, int classes, int repeats = 7, int warmup = 2) =>
        new(name, () =>
        {
            var model = Build(factory);
            model.Train();
            var x = Tensor.Randn(input, Data);
            var y = Labels(labels, classes);
            var opt = new SGD(model.Parameters(), 0.01, momentum: 0.9);
            // As the peer (PyTorch 1.13's zero_grad zeroes in place), in one TensorScope as TrainLoop runs its steps.
            return () =>
            {
                using var scope = TensorScope.BeginTraining();
                opt.ZeroGrad(setToNone: false);
                F.CrossEntropy(model.Forward(x), y).Backward();
                opt.Step();
            };
        }, 0, repeats, warmup);
}
