using ConvKit.Kernels.Cpu;

namespace ConvKit;

public static partial class F
{
    /// <summary>
    /// Batch normalization, as <c>torch.nn.functional.batch_norm</c>. input [N, C, *] (rank 2 to 5);
    /// runningMean, runningVar, weight, bias [C]. In training, normalizes with the batch's biased variance and
    /// updates the running statistics in place: r ← (1 − momentum)·r + momentum·stat, using the unbiased
    /// variance for runningVar. In evaluation, normalizes with the running statistics.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
                                   bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: false);

    /// <summary>
    /// relu(batch_norm(...)) as one op when <paramref name="relu"/>: the ReLU runs in place on the normalized output,
    /// so a training step keeps one activation where BatchNorm2d → ReLU keeps two (PyTorch keeps one with
    /// ReLU(inplace=True)). The backward masks the gradient as ReLU's backward does, then runs batch norm's.
    /// </summary>
    internal static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
                                     bool training, double momentum, double eps, bool relu)
    {
        const string op = "batch_norm";
        if (input.Dim < 2) throw new ArgumentException($"{op}: expected input with at least 2 dimensions [N, C, ...], got {ShapeUtil.Format(input.Sizes)}");
        int n = input.Sizes[0], c = input.Sizes[1], l = input.Numel / Math.Max(n * c, 1);
        foreach (var (t, name) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
            if (t != null && t.Numel != c)
                throw new ArgumentException($"{op}: {name} should contain {c} elements not {t.Numel}");
        if (!training && (runningMean is null || runningVar is null))
            throw new ArgumentException($"{op}: running_mean and running_var must be defined in evaluation mode");
        if (training && (long)n * l <= 1)
            throw new ArgumentException($"{op}: Expected more than 1 value per channel when training, got input size {ShapeUtil.Format(input.Sizes)}");
        var x = input.Contiguous();
        var xs = x.Span;
        double[] mean, var;
        if (training)
        {
            (mean, var) = BatchNormKernels.ChannelStats(xs, n, c, l);
            double count = (double)n * l;
            UpdateRunning(runningMean, mean, momentum, 1.0);
            UpdateRunning(runningVar, var, momentum, count / (count - 1));
        }
        else
        {
            mean = Array.ConvertAll(runningMean!.ToArray(), v => (double)v);
            var = Array.ConvertAll(runningVar!.ToArray(), v => (double)v);
        }
        var invstd = var.Select(v => 1.0 / Math.Sqrt(v + eps)).ToArray();
        float[] w = weight?.ToArray() ?? Enumerable.Repeat(1f, c).ToArray();
        float[] b = bias?.ToArray() ?? new float[c];
        var scale = new float[c];
        var shift = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            scale[ch] = (float)(w[ch] * invstd[ch]);
            shift[ch] = (float)(b[ch] - mean[ch] * w[ch] * invstd[ch]);
        }
        var y = Tensor.Empty(input.Sizes);
        BatchNormKernels.Affine(xs, y.Span, scale, shift, n, c, l, relu);
        return Autograd.Record(y, [input, weight, bias], g =>
        {
            var gs = g.Contiguous().Span;
            // With the ReLU fused, ReLU's backward (dy where y > 0) is applied as the gradient is read.
            ReadOnlySpan<float> mask = relu ? y.Span : default;
            var xv = x.Span;
            var (sumDy, sumDyXhat) = BatchNormKernels.GradSums(gs, xv, mask, mean, invstd, n, c, l);
            Tensor? dx = null;
            if (input.RequiresGrad)
            {
                // Training: dx = w·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)); evaluation: dx = w·invstd·dy.
                var k = new float[c];
                var a = new float[c];
                var o = new float[c];
                double count = (double)n * l;
                for (int ch = 0; ch < c; ch++)
                {
                    double wi = w[ch] * invstd[ch];
                    if (training)
                    {
                        double mdy = sumDy[ch] / count, mdx = sumDyXhat[ch] / count;
                        // dx = wi·dy − wi·mdx·invstd·x + wi·(mdx·invstd·mean − mdy)
                        k[ch] = (float)wi;
                        a[ch] = (float)(-wi * mdx * invstd[ch]);
                        o[ch] = (float)(wi * (mdx * invstd[ch] * mean[ch] - mdy));
                    }
                    else { k[ch] = (float)wi; a[ch] = 0; o[ch] = 0; }
                }
                dx = Tensor.Empty(input.Sizes);
                BatchNormKernels.InputGrad(gs, xv, mask, k, a, o, dx.Span, n, c, l);
            }
            var dw = weight is { RequiresGrad: true } ? Tensor.FromArray(sumDyXhat.Select(v => (float)v).ToArray(), weight.Sizes.ToArray()) : null;
            var db = bias is { RequiresGrad: true } ? Tensor.FromArray(sumDy.Select(v => (float)v).ToArray(), bias.Sizes.ToArray()) : null;
            return [dx, dw, db];
        });
    }

    private static void UpdateRunning(Tensor? running, double[] stat, double momentum, double factor)
    {
        if (running is null) return;
        if (!running.IsContiguous) throw new ArgumentException("batch_norm: running statistics must be contiguous tensors");
        var r = running.Span;
        for (int i = 0; i < r.Length; i++) r[i] = (float)((1 - momentum) * r[i] + momentum * stat[i] * factor);
    }
}
