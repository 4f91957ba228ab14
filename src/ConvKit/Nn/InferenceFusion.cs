using ConvKit.Kernels;

namespace ConvKit.Nn;

/// <summary>
/// Inference-time fusion of Conv2d → BatchNorm2d → ReLU runs (and Conv2d → ReLU) into one convolution whose epilogue
/// applies the batch norm's affine map and the ReLU while the output tile is still in cache: PyTorch eager runs three
/// ops with three passes over the activation, as ConvKit does whenever fusion does not apply. Fusion applies only when
/// nothing can need a gradient (autograd disabled, or neither the input nor any parameter requires one), the batch
/// norm is in eval mode with running statistics, the conv pads with zeros, the input is [N, C, H, W], and none of the
/// modules has a forward hook (a hook must see its module's own output). The result equals the unfused one: the map
/// is the same y·scale + shift, with scale and shift computed as <see cref="F.BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, double, double)"/> computes them.
/// A BatchNorm2d → ReLU pair that no conv fusion took (training, or a gradient needed) runs as one batch norm with
/// the ReLU in place: the same numbers, one activation kept instead of two.
/// </summary>
internal static class InferenceFusion
{
    /// <summary>Fused convolutions run on this thread (for tests that must see fusion happen).</summary>
    [ThreadStatic] internal static int FusedCount;

    /// <summary>BatchNorm2d → ReLU pairs run as one op on this thread (for tests).</summary>
    [ThreadStatic] internal static int BatchNormReluCount;

    /// <summary>Runs <paramref name="layers"/> in order on <paramref name="input"/>, fusing the runs that qualify.</summary>
    public static Tensor Run(IReadOnlyList<Module> layers, Tensor input)
    {
        for (int i = 0; i < layers.Count;)
        {
            if (layers[i] is Conv2d conv && TryFuse(conv, layers, i + 1, input) is var (output, used))
            {
                input = output;
                i += 1 + used;
                continue;
            }
            if (layers[i] is BatchNorm2d bn && !bn.HasForwardHooks && i + 1 < layers.Count && layers[i + 1] is ReLU { HasForwardHooks: false })
            {
                BatchNormReluCount++;
                input = bn.ForwardRelu(input);
                i += 2;
                continue;
            }
            input = layers[i].Call(input);
            i++;
        }
        return input;
    }

    /// <summary>relu(conv(input)) fused when it qualifies, else null.</summary>
    public static Tensor? ConvRelu(Conv2d conv, Tensor input) => Fuse(conv, null, relu: true, input);

    /// <summary>Fuses conv with the BatchNorm2d and/or ReLU at layers[next..]; returns the output and how many of those it took.</summary>
    private static (Tensor Output, int Used)? TryFuse(Conv2d conv, IReadOnlyList<Module> layers, int next, Tensor input)
    {
        var bn = next < layers.Count ? layers[next] as BatchNorm2d : null;
        int afterBn = next + (bn is null ? 0 : 1);
        var relu = afterBn < layers.Count && layers[afterBn] is ReLU r && !r.HasForwardHooks ? r : null;
        if (bn is null && relu is null) return null;
        var output = Fuse(conv, bn, relu is not null, input);
        return output is null ? null : (output, (bn is null ? 0 : 1) + (relu is null ? 0 : 1));
    }

    private static Tensor? Fuse(Conv2d conv, BatchNorm2d? bn, bool relu, Tensor input)
    {
        if (conv.HasForwardHooks || conv.PaddingMode != "zeros" || input.Dim != 4) return null;
        if (bn is not null && (bn.HasForwardHooks || bn.Training || bn.RunningMean is null || bn.RunningVar is null)) return null;
        if (Autograd.IsEnabled && (input.RequiresGrad || conv.Weight.RequiresGrad || conv.Bias is { RequiresGrad: true } ||
                                   bn?.Weight is { RequiresGrad: true } || bn?.Bias is { RequiresGrad: true }))
            return null;
        var p = F.Conv2dGeometry(input.Sizes, input.Sizes, conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups);
        if (bn is not null && bn.NumFeatures != p.COut) return null; // the unfused path reports the mismatch
        var (scale, shift) = bn is null ? (null, null) : AffineOf(bn);
        FusedCount++;
        return ConvOps.ForwardInference(input, conv.Weight, conv.Bias, p, new ConvEpilogue(scale, shift, relu));
    }

    /// <summary>The eval-mode batch norm as y = x·scale + shift, computed exactly as F.BatchNorm computes it.</summary>
    private static (float[] Scale, float[] Shift) AffineOf(BatchNorm2d bn)
    {
        var mean = bn.RunningMean!.ToArray();
        var var = bn.RunningVar!.ToArray();
        var w = bn.Weight?.ToArray();
        var b = bn.Bias?.ToArray();
        var scale = new float[mean.Length];
        var shift = new float[mean.Length];
        for (int c = 0; c < mean.Length; c++)
        {
            double invstd = 1.0 / Math.Sqrt((double)var[c] + bn.Eps), wc = w?[c] ?? 1f, bc = b?[c] ?? 0f;
            scale[c] = (float)(wc * invstd);
            shift[c] = (float)(bc - mean[c] * wc * invstd);
        }
        return (scale, shift);
    }
}
