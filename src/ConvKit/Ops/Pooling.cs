using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;

namespace ConvKit;

public static partial class F
{
    /// <summary>Output length of a pooling window sweep, as ATen's <c>pooling_output_shape</c> (ceil mode drops a window starting in the right padding).</summary>
    internal static int PoolOutSize(int size, int kernel, int pad, int stride, int dilation, bool ceilMode)
    {
        long numer = (long)size + 2 * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long o = (long)Math.Floor(numer / (double)stride) + 1;
        if (ceilMode && (o - 1) * stride >= size + pad) o--;
        return (int)o;
    }

    private static (Tensor X, bool Unbatched) PoolInput(Tensor input, string op)
    {
        bool ok = (input.Dim == 3 || input.Dim == 4) && input.Sizes[^3..].All(s => s > 0);
        if (!ok)
            throw new ArgumentException($"{op}: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got: {ShapeUtil.Format(input.Sizes)}");
        return input.Dim == 3 ? (input.Unsqueeze(0), true) : (input, false);
    }

    private static Pool2dParams PoolGeometry(Tensor x, Pair k, Pair s, Pair pad, Pair d, bool ceilMode, string op)
    {
        if (k.H <= 0 || k.W <= 0) throw new ArgumentException($"{op}: kernel size should be greater than zero, but got kH: {k.H} kW: {k.W}");
        if (s.H <= 0 || s.W <= 0) throw new ArgumentException($"{op}: stride should be greater than zero, but got dH: {s.H} dW: {s.W}");
        if (d.H <= 0 || d.W <= 0) throw new ArgumentException($"{op}: dilation should be greater than zero, but got dilationH: {d.H} dilationW: {d.W}");
        if (pad.H < 0 || pad.W < 0) throw new ArgumentException($"{op}: pad must be non-negative, but got padH: {pad.H} padW: {pad.W}");
        if (pad.H > k.H / 2 || pad.W > k.W / 2)
            throw new ArgumentException($"{op}: pad should be smaller than or equal to half of kernel size, but got padW = {pad.W}, padH = {pad.H}, kW = {k.W}, kH = {k.H}");
        int n = x.Sizes[0], c = x.Sizes[1], h = x.Sizes[2], w = x.Sizes[3];
        int oh = PoolOutSize(h, k.H, pad.H, s.H, d.H, ceilMode), ow = PoolOutSize(w, k.W, pad.W, s.W, d.W, ceilMode);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size is too small");
        return new Pool2dParams(n * c, h, w, k.H, k.W, s.H, s.W, pad.H, pad.W, d.H, d.W, oh, ow);
    }

    /// <summary>
    /// 2-D max pooling, as <c>torch.nn.functional.max_pool2d</c>. input [N, C, H, W] or [C, H, W];
    /// stride defaults to the kernel size; padding (at most half the kernel) counts as −∞.
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, Pair kernelSize, Pair? stride = null, Pair? padding = null, Pair? dilation = null, bool ceilMode = false)
    {
        if (Autograd.IsEnabled && input.RequiresGrad)
            return MaxPool2dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode).Output;
        // Nothing will call backward: the values alone, by the vectorised separable kernel (no argmax bookkeeping).
        var (x, unbatched) = PoolInput(input, "max_pool2d");
        var p = PoolGeometry(x, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode, "max_pool2d");
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], p.OutH, p.OutW);
        CpuPool.MaxPoolValues(x.Contiguous().Span, y.Span, p);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>
    /// Max pooling that also returns, for every output, the flat index h·W + w of its maximum within the
    /// input plane (<c>max_pool2d(..., return_indices=True)</c>).
    /// </summary>
    public static (Tensor Output, LongTensor Indices) MaxPool2dWithIndices(Tensor input, Pair kernelSize, Pair? stride = null, Pair? padding = null,
                                                                          Pair? dilation = null, bool ceilMode = false)
    {
        const string op = "max_pool2d";
        var (x, unbatched) = PoolInput(input, op);
        var p = PoolGeometry(x, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode, op);
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], p.OutH, p.OutW);
        var idx = TensorScope.Allocate<long>(y.Numel, zero: false);
        CpuPool.MaxPool(x.Contiguous().Span, y.Span, idx, p);
        return FinishMaxPool(input, x, y, idx, p.Planes, p.InPlane, p.OutPlane, unbatched);
    }

    private static (Tensor, LongTensor) FinishMaxPool(Tensor input, Tensor x, Tensor y, long[] idx, int planes, int inPlane, int outPlane, bool unbatched)
    {
        var recorded = Autograd.Record(y, x, g =>
        {
            var dx = Tensor.Empty(x.Sizes);
            CpuPool.MaxPoolBackward(g.Contiguous().Span, idx, dx.Span, planes, inPlane, outPlane);
            return dx;
        });
        var indices = new LongTensor(idx, y.Sizes);
        return unbatched ? (recorded.Squeeze(0), indices.Reshape(y.Sizes.Skip(1).ToArray())) : (recorded, indices);
    }

    /// <summary>
    /// 2-D average pooling, as <c>torch.nn.functional.avg_pool2d</c>. input [N, C, H, W] or [C, H, W].
    /// <paramref name="countIncludePad"/> counts zero padding in the divisor; <paramref name="divisorOverride"/> replaces it.
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, Pair kernelSize, Pair? stride = null, Pair? padding = null, bool ceilMode = false,
                                   bool countIncludePad = true, int? divisorOverride = null)
    {
        const string op = "avg_pool2d";
        if (divisorOverride == 0) throw new ArgumentException($"{op}: divisor must be not zero");
        var (x, unbatched) = PoolInput(input, op);
        var p = PoolGeometry(x, kernelSize, stride ?? kernelSize, padding ?? 0, 1, ceilMode, op);
        if (p.OutH == 1 && p.OutW == 1 && p.KH == p.H && p.KW == p.W && p.PadH == 0 && p.PadW == 0 && divisorOverride is null)
        {
            // A window covering the whole plane (the squeeze of SE blocks) is a mean: the strided sum and a broadcast backward.
            var mean = x.Mean([2, 3], keepDim: true);
            return unbatched ? mean.Squeeze(0) : mean;
        }
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], p.OutH, p.OutW);
        ReferencePool.AvgPool<float>(x.Contiguous().Span, y.Span, p, countIncludePad, divisorOverride);
        var r = Autograd.Record(y, x, g =>
        {
            var dx = Tensor.Empty(x.Sizes);
            ReferencePool.AvgPoolBackward<float>(g.Contiguous().Span, dx.Span, p, countIncludePad, divisorOverride);
            return dx;
        });
        return unbatched ? r.Squeeze(0) : r;
    }

    private static (Tensor X, bool Unbatched, int OutH, int OutW) AdaptiveInput(Tensor input, Pair outputSize, string op)
    {
        if (outputSize.H < 0 || outputSize.W < 0)
            throw new ArgumentException($"{op}: elements of output_size must be greater than or equal to 0 but received {outputSize}");
        var (x, unbatched) = PoolInput(input, op);
        return (x, unbatched, outputSize.H, outputSize.W);
    }

    /// <summary>
    /// Adaptive average pooling to a fixed output size, as <c>torch.nn.functional.adaptive_avg_pool2d</c>;
    /// window o covers [⌊o·H/OutH⌋, ⌈(o+1)·H/OutH⌉). input [N, C, H, W] or [C, H, W].
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Pair outputSize)
    {
        var (x, unbatched, oh, ow) = AdaptiveInput(input, outputSize, "adaptive_avg_pool2d");
        if (oh == 1 && ow == 1)
        {
            var mean = x.Mean([2, 3], keepDim: true);
            return unbatched ? mean.Squeeze(0) : mean;
        }
        int planes = x.Sizes[0] * x.Sizes[1], h = x.Sizes[2], w = x.Sizes[3];
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], oh, ow);
        ReferencePool.AdaptiveAvgPool<float>(x.Contiguous().Span, y.Span, planes, h, w, oh, ow);
        var r = Autograd.Record(y, x, g =>
        {
            var dx = Tensor.Empty(x.Sizes);
            ReferencePool.AdaptiveAvgPoolBackward<float>(g.Contiguous().Span, dx.Span, planes, h, w, oh, ow);
            return dx;
        });
        return unbatched ? r.Squeeze(0) : r;
    }

    /// <summary>Adaptive max pooling, as <c>torch.nn.functional.adaptive_max_pool2d</c>. input [N, C, H, W] or [C, H, W].</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, Pair outputSize) => AdaptiveMaxPool2dWithIndices(input, outputSize).Output;

    /// <summary>Adaptive max pooling with the flat in-plane index of every maximum (<c>return_indices=True</c>).</summary>
    public static (Tensor Output, LongTensor Indices) AdaptiveMaxPool2dWithIndices(Tensor input, Pair outputSize)
    {
        var (x, unbatched, oh, ow) = AdaptiveInput(input, outputSize, "adaptive_max_pool2d");
        int planes = x.Sizes[0] * x.Sizes[1], h = x.Sizes[2], w = x.Sizes[3];
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], oh, ow);
        var idx = TensorScope.Allocate<long>(y.Numel, zero: false);
        ReferencePool.AdaptiveMaxPool<float>(x.Contiguous().Span, y.Span, idx, planes, h, w, oh, ow);
        return FinishMaxPool(input, x, y, idx, planes, h * w, oh * ow, unbatched);
    }
}
