using ConvKit.Kernels;

namespace ConvKit;

/// <summary>
/// The differentiable convolution pair. <see cref="Forward"/> is a convolution, <see cref="Adjoint"/>
/// its transpose under the same geometry; each one's input gradient is the other, and both share the
/// weight gradient kernel. Inputs are validated by F before they arrive here.
/// </summary>
internal static class ConvOps
{
    /// <summary>y [N, COut, OutH, OutW] = conv(x [N, CIn, H, W], w [COut, CIn/g, KH, KW]) + b [COut].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, Conv2dParams p)
    {
        var xc = x.Contiguous(); var wc = w.Contiguous();
        var y = Tensor.Empty(p.N, p.COut, p.OutH, p.OutW);
        ConvKernels.Forward(xc.Span, wc.Span, b is null ? default : b.Contiguous().Span, y.Span, p, inference: Inference(x, w, b),
                            weightStorage: w.IsContiguous ? wc.Storage : null, weightOffset: wc.Offset);
        return Autograd.Record(y, [x, w, b], g => [
            x.RequiresGrad ? Adjoint(g, wc, null, p) : null,
            w.RequiresGrad ? WeightGrad(xc, g, p) : null,
            b is { RequiresGrad: true } ? g.Sum([0, 2, 3]) : null]);
    }

    /// <summary>
    /// y = map(conv(x, w) + b) with a per-channel map (eval batch norm, ReLU) fused into the kernel. Records no backward:
    /// callers use it only where nothing can need a gradient (<see cref="Nn.InferenceFusion"/>).
    /// </summary>
    public static Tensor ForwardInference(Tensor x, Tensor w, Tensor? b, Conv2dParams p, ConvEpilogue map)
    {
        var y = Tensor.Empty(p.N, p.COut, p.OutH, p.OutW);
        var wc = w.Contiguous();
        ConvKernels.Forward(x.Contiguous().Span, wc.Span, b is null ? default : b.Contiguous().Span, y.Span, p, map, weightStorage: w.IsContiguous ? wc.Storage : null, weightOffset: wc.Offset);
        return y;
    }

    /// <summary>x [N, CIn, H, W] = convᵀ(y [N, COut, OutH, OutW], w [COut, CIn/g, KH, KW]) + b [CIn].</summary>
    public static Tensor Adjoint(Tensor y, Tensor w, Tensor? b, Conv2dParams p)
    {
        var yc = y.Contiguous(); var wc = w.Contiguous();
        var x = Tensor.Empty(p.N, p.CIn, p.H, p.W);
        ConvKernels.Adjoint(yc.Span, wc.Span, b is null ? default : b.Contiguous().Span, x.Span, p, Inference(y, w, b));
        return Autograd.Record(x, [y, w, b], g => [
            y.RequiresGrad ? Forward(g, wc, null, p) : null,
            w.RequiresGrad ? WeightGrad(g, yc, p) : null,
            b is { RequiresGrad: true } ? g.Sum([0, 2, 3]) : null]);
    }

    /// <summary>dW [COut, CIn/g, KH, KW] from the input-side tensor and the output-side gradient.</summary>
    public static Tensor WeightGrad(Tensor x, Tensor dy, Conv2dParams p)
    {
        var dw = Tensor.Empty(p.COut, p.CInPerGroup, p.KH, p.KW);
        ConvKernels.WeightGrad(x.Contiguous().Span, dy.Contiguous().Span, dw.Span, p);
        return dw;
    }

    /// <summary>True when this result feeds no gradient: nothing will be recorded for it and it is not part of a backward pass.</summary>
    private static bool Inference(Tensor a, Tensor w, Tensor? b) =>
        !Autograd.InBackward && !(Autograd.IsEnabled && (a.RequiresGrad || w.RequiresGrad || b is { RequiresGrad: true }));

    /// <summary>Adds a leading batch dimension to unbatched [C, H, W] input; checks the rank.</summary>
    public static (Tensor Input, bool Unbatched) Batchify(Tensor input, string op)
    {
        if (input.Dim == 3) return (input.Unsqueeze(0), true);
        if (input.Dim == 4) return (input, false);
        throw new ArgumentException($"{op}: Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: {ShapeUtil.Format(input.Sizes)}");
    }

    public static void CheckPositive(Pair v, string what, string op)
    {
        if (v.H <= 0 || v.W <= 0) throw new ArgumentException($"{op}: non-positive {what} is not supported, got {what}={v}");
    }

    public static void CheckNonNegative(Pair v, string what, string op)
    {
        if (v.H < 0 || v.W < 0) throw new ArgumentException($"{op}: negative {what} is not supported, got {what}={v}");
    }

    public static void CheckWeightAndBias(Tensor weight, Tensor? bias, int groups, int biasLength, string op)
    {
        if (weight.Dim != 4)
            throw new ArgumentException($"{op}: expected 4-dimensional weight, but got weight of size {ShapeUtil.Format(weight.Sizes)}");
        if (groups <= 0) throw new ArgumentException($"{op}: non-positive groups is not supported, got groups={groups}");
        if (bias != null && (bias.Dim != 1 || bias.Sizes[0] != biasLength))
            throw new ArgumentException($"{op}: Given weight of size {ShapeUtil.Format(weight.Sizes)}, expected bias to be 1-dimensional with {biasLength} elements, but got bias of size {ShapeUtil.Format(bias.Sizes)} instead");
    }
}

public static partial class F
{
    /// <summary>
    /// 2-D convolution (cross-correlation), as <c>torch.nn.functional.conv2d</c>.
    /// input [N, CIn, H, W] or unbatched [CIn, H, W]; weight [COut, CIn / groups, KH, KW]; bias [COut];
    /// returns [N, COut, OutH, OutW] with OutH = ⌊(H + 2·padding − dilation·(KH − 1) − 1) / stride⌋ + 1.
    /// <paramref name="padding"/> is an int, a pair, <c>"valid"</c> or <c>"same"</c> (stride 1 only; an odd
    /// total pads one more at the bottom/right, as PyTorch does).
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Pair? stride = null, Padding? padding = null,
                                Pair? dilation = null, int groups = 1)
    {
        var (x, unbatched) = ConvOps.Batchify(input, "conv2d");
        var p = Conv2dGeometry(x.Sizes, input.Sizes, weight, bias, stride, padding, dilation, groups);
        var y = ConvOps.Forward(x, weight, bias, p);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>
    /// 2-D transposed convolution, as <c>torch.nn.functional.conv_transpose2d</c>: the adjoint of conv2d.
    /// input [N, CIn, H, W] or [CIn, H, W]; weight [CIn, COut / groups, KH, KW]; bias [COut]; returns
    /// [N, COut, OutH, OutW] with OutH = (H − 1)·stride − 2·padding + dilation·(KH − 1) + outputPadding + 1.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Pair? stride = null, Pair? padding = null,
                                         Pair? outputPadding = null, int groups = 1, Pair? dilation = null)
    {
        var (x, unbatched) = ConvOps.Batchify(input, "conv_transpose2d");
        var p = ConvTranspose2dGeometry(x.Sizes, input.Sizes, weight, bias, stride, padding, outputPadding, groups, dilation);
        var y = ConvOps.Adjoint(x, weight, bias, p);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>Validates a conv2d call and computes its geometry; <paramref name="x"/> is the batched input shape.</summary>
    internal static Conv2dParams Conv2dGeometry(IReadOnlyList<int> x, IReadOnlyList<int> input, Tensor weight, Tensor? bias, Pair? stride, Padding? padding,
                                                Pair? dilation, int groups)
    {
        const string op = "conv2d";
        Pair s = stride ?? 1, d = dilation ?? 1;
        Padding pad = padding ?? 0;
        ConvOps.CheckWeightAndBias(weight, bias, groups, weight.Dim == 4 ? weight.Sizes[0] : 0, op);
        ConvOps.CheckPositive(s, "stride", op);
        ConvOps.CheckNonNegative(pad.Size, "padding", op);
        if (d.H <= 0 || d.W <= 0) throw new ArgumentException($"{op}: dilation should be greater than zero, got dilation={d}");
        int cOut = weight.Sizes[0], kh = weight.Sizes[2], kw = weight.Sizes[3];
        if (cOut % groups != 0)
            throw new ArgumentException($"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {ShapeUtil.Format(weight.Sizes)} instead");
        int cIn = x[1];
        if (cIn != weight.Sizes[1] * groups)
            throw new ArgumentException($"{op}: Given groups={groups}, weight of size {ShapeUtil.Format(weight.Sizes)}, expected input{ShapeUtil.Format(input)} to have {weight.Sizes[1] * groups} channels, but got {cIn} channels instead");
        int padTop = pad.Size.H, padLeft = pad.Size.W, padBottom = pad.Size.H, padRight = pad.Size.W;
        if (pad.IsSame)
        {
            if (s.H != 1 || s.W != 1) throw new ArgumentException($"{op}: padding='same' is not supported for strided convolutions, got stride={s}");
            int th = d.H * (kh - 1), tw = d.W * (kw - 1);
            (padTop, padBottom, padLeft, padRight) = (th / 2, th - th / 2, tw / 2, tw - tw / 2);
        }
        int h = x[2], w = x[3];
        int outH = Conv2dParams.ConvOutSize(h, padTop + padBottom, kh, s.H, d.H);
        int outW = Conv2dParams.ConvOutSize(w, padLeft + padRight, kw, s.W, d.W);
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: Calculated padded input size per channel: ({h + padTop + padBottom} x {w + padLeft + padRight}). Kernel size: ({d.H * (kh - 1) + 1} x {d.W * (kw - 1) + 1}). Kernel size can't be greater than actual input size");
        return new Conv2dParams
        {
            N = x[0], CIn = cIn, H = h, W = w, COut = cOut, KH = kh, KW = kw, StrideH = s.H, StrideW = s.W,
            PadTop = padTop, PadLeft = padLeft, DilationH = d.H, DilationW = d.W, Groups = groups, OutH = outH, OutW = outW,
        };
    }

    /// <summary>Validates a conv_transpose2d call and computes the geometry of the convolution it is the adjoint of.</summary>
    internal static Conv2dParams ConvTranspose2dGeometry(IReadOnlyList<int> x, IReadOnlyList<int> input, Tensor weight, Tensor? bias, Pair? stride,
                                                         Pair? padding, Pair? outputPadding, int groups, Pair? dilation)
    {
        const string op = "conv_transpose2d";
        Pair s = stride ?? 1, pad = padding ?? 0, opad = outputPadding ?? 0, d = dilation ?? 1;
        ConvOps.CheckWeightAndBias(weight, bias, groups, weight.Dim == 4 ? weight.Sizes[1] * groups : 0, op);
        ConvOps.CheckPositive(s, "stride", op);
        ConvOps.CheckNonNegative(pad, "padding", op);
        ConvOps.CheckNonNegative(opad, "output_padding", op);
        if (d.H <= 0 || d.W <= 0) throw new ArgumentException($"{op}: dilation should be greater than zero, got dilation={d}");
        if ((opad.H >= s.H && opad.H >= d.H) || (opad.W >= s.W && opad.W >= d.W))
            throw new ArgumentException($"{op}: output padding must be smaller than either stride or dilation, but got output_padding_height: {opad.H} output_padding_width: {opad.W} stride_height: {s.H} stride_width: {s.W} dilation_height: {d.H} dilation_width: {d.W}");
        int cIn = weight.Sizes[0], kh = weight.Sizes[2], kw = weight.Sizes[3];
        if (cIn % groups != 0)
            throw new ArgumentException($"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {ShapeUtil.Format(weight.Sizes)} instead");
        if (x[1] != cIn)
            throw new ArgumentException($"{op}: Given transposed=1, weight of size {ShapeUtil.Format(weight.Sizes)}, expected input{ShapeUtil.Format(input)} to have {cIn} channels, but got {x[1]} channels instead");
        int h = x[2], w = x[3];
        long outH = (long)(h - 1) * s.H - 2L * pad.H + (long)d.H * (kh - 1) + opad.H + 1;
        long outW = (long)(w - 1) * s.W - 2L * pad.W + (long)d.W * (kw - 1) + opad.W + 1;
        if (outH <= 0 || outW <= 0 || h == 0 || w == 0)
            throw new ArgumentException($"{op}: Given input size per channel: ({h} x {w}). Calculated output size per channel: ({outH} x {outW}). Output size is too small");
        return new Conv2dParams
        {
            N = x[0], CIn = weight.Sizes[1] * groups, H = (int)outH, W = (int)outW, COut = cIn, KH = kh, KW = kw,
            StrideH = s.H, StrideW = s.W, PadTop = pad.H, PadLeft = pad.W, DilationH = d.H, DilationW = d.W, Groups = groups,
            OutH = h, OutW = w,
        };
    }
}
