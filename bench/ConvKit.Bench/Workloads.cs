using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>The reference workloads of shared/peer/peer_bench.py, named exactly as that script prints them.</summary>
internal static class Workloads
{
    public sealed record Workload(string Name, Action Run, double Flops, int Repeats = 7, int Warmup = 2);

    public static IEnumerable<Workload> All()
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

        SmallSECnn model;
        using (Generator.Use(new Generator(0))) model = new SmallSECnn();
        var xs = Tensor.Randn([64, 1, 28, 28], g);
        var ys = LongTensor.FromArray(Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray(), 64);
        var opt = new SGD(model.Parameters(), 0.01, momentum: 0.9);
        yield return new("small-se-cnn train step b64 28x28", () =>
        {
            opt.ZeroGrad();
            F.CrossEntropy(model.Forward(xs), ys).Backward();
            opt.Step();
        }, 0);
    }
}
