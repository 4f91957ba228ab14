using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>The reference workloads of shared/peer/peer_bench.py, named exactly as that script prints them.</summary>
internal static class Workloads
{
    /// <summary>One timed workload; <see cref="Flops"/> is 0 where GFLOP/s is not meaningful (whole models).</summary>
    public sealed record Workload(string Name, Action Run, double Flops, int Repeats = 7, int Warmup = 2);

    /// <summary>Every workload, or those whose name contains <paramref name="filter"/>.</summary>
    public static IEnumerable<Workload> All(string? filter = null) =>
        Ops().Concat(Models()).Where(w => filter is null || w.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<Workload> Ops()
    {
        var g = new Generator(0);
        foreach (var (n, c, h, k, ks, s, p) in new[] { (1, 64, 56, 64, 3, 1, 1), (8, 64, 56, 64, 3, 1, 1), (1, 256, 14, 256, 3, 1, 1),
                                                       (1, 3, 224, 64, 7, 2, 3), (1, 256, 56, 64, 1, 1, 0), (1, 128, 28, 256, 3, 2, 1) })
        {
            var x = Tensor.Randn([n, c, h, h], g);
            var w = Tensor.Randn([k, c, ks, ks], g);
            int o = (h + 2 * p - ks) / s + 1;
            yield return new($"conv2d n{n} c{c} {h}x{h} k{k} {ks}x{ks} s{s}", () => F.Conv2d(x, w, stride: s, padding: p), 2.0 * n * k * o * o * c * ks * ks);
        }
        var xd = Tensor.Randn([1, 32, 112, 112], g); var wd = Tensor.Randn([32, 1, 3, 3], g);
        yield return new("conv2d depthwise c32 112x112 3x3", () => F.Conv2d(xd, wd, padding: 1, groups: 32), 2.0 * 32 * 112 * 112 * 9);
        var xt = Tensor.Randn([1, 256, 28, 28], g); var wt = Tensor.Randn([256, 128, 2, 2], g);
        yield return new("conv_transpose2d c256->128 28x28 k2 s2", () => F.ConvTranspose2d(xt, wt, stride: 2), 2.0 * 256 * 128 * 4 * 28 * 28);
        var xf = Tensor.Randn([1, 21, 10, 15], g); var wf = Tensor.Randn([21, 21, 64, 64], g);
        yield return new("conv_transpose2d fcn c21 10x15 k64 s32 p16", () => F.ConvTranspose2d(xf, wf, stride: 32, padding: 16), 2.0 * 21 * 21 * 64 * 64 * 150);
    }

    private static IEnumerable<Workload> Models()
    {
        var g = new Generator(0);
        yield return Inference("resnet18 forward b1 224", Build(() => ResNet.ResNet18()), Tensor.Randn([1, 3, 224, 224], g));
        yield return Inference("fcn-resnet18 forward b1 320x480", Build(() => new FcnResNet18()), Tensor.Randn([1, 3, 320, 480], g));
        yield return Inference("seed-unet forward b1 128x128", Build(() => new UNet()), Tensor.Randn([1, 3, 128, 128], g), repeats: 5);
        yield return TrainStep("seed-unet train step b2 128x128", Build(() => new UNet()), Tensor.Randn([2, 3, 128, 128], g),
                               Labels([2, 128, 128], 2, g), repeats: 3, warmup: 1);
        yield return TrainStep("resnet18 train step b8 224", Build(() => ResNet.ResNet18()), Tensor.Randn([8, 3, 224, 224], g),
                               Labels([8], 1000, g), repeats: 3, warmup: 1);
        yield return TrainStep("small-se-cnn train step b64 28x28", Build(() => new SmallSECnn()), Tensor.Randn([64, 1, 28, 28], g),
                               Labels([64], 10, g));
    }

    private static Module Build(Func<Module> factory)
    {
        using (Generator.Use(new Generator(0))) return factory();
    }

    private static LongTensor Labels(int[] shape, int classes, Generator g)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var u = Tensor.Rand([count], g).ToArray();
        return LongTensor.FromArray(u.Select(v => (long)Math.Min(classes - 1, (int)(v * classes))).ToArray(), shape);
    }

    private static Workload Inference(string name, Module model, Tensor x, int repeats = 7)
    {
        model.Eval();
        return new(name, () => { using (Autograd.NoGrad()) model.Forward(x); }, 0, repeats);
    }

    /// <summary>The peer's train_step: SGD(lr 0.01, momentum 0.9), zero_grad, cross-entropy, backward, step.</summary>
    private static Workload TrainStep(string name, Module model, Tensor x, LongTensor y, int repeats = 7, int warmup = 2)
    {
        model.Train();
        var opt = new SGD(model.Parameters(), 0.01, momentum: 0.9);
        return new(name, () =>
        {
            opt.ZeroGrad();
            F.CrossEntropy(model.Forward(x), y).Backward();
            opt.Step();
        }, 0, repeats, warmup);
    }
}
