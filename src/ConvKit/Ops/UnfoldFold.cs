using ConvKit.Kernels.Cpu;

namespace ConvKit;

public static partial class F
{
    private static Conv2dParams SlidingGeometry(int n, int c, int h, int w, Pair k, Pair d, Pair pad, Pair s, string op)
    {
        if (k.H <= 0 || k.W <= 0) throw new ArgumentException($"{op}: kernel size should be greater than zero, but got kernel_height: {k.H} kernel_width: {k.W}");
        if (s.H <= 0 || s.W <= 0) throw new ArgumentException($"{op}: stride should be greater than zero, but got stride_height: {s.H} stride_width: {s.W}");
        if (d.H <= 0 || d.W <= 0) throw new ArgumentException($"{op}: dilation should be greater than zero, but got dilation_height: {d.H} dilation_width: {d.W}");
        if (pad.H < 0 || pad.W < 0) throw new ArgumentException($"{op}: padding should be non-negative, but got pad_height: {pad.H} pad_width: {pad.W}");
        int oh = Conv2dParams.ConvOutSize(h, 2 * pad.H, k.H, s.H, d.H), ow = Conv2dParams.ConvOutSize(w, 2 * pad.W, k.W, s.W, d.W);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: Given input with spatial size ({h}, {w}), kernel_size={k}, dilation={d}, padding={pad}, calculated shape of the array of sliding blocks as ({oh}, {ow}), but its components must be at least one.");
        return new Conv2dParams
        {
            N = n, CIn = c, H = h, W = w, COut = c, KH = k.H, KW = k.W, StrideH = s.H, StrideW = s.W, PadTop = pad.H, PadLeft = pad.W,
            DilationH = d.H, DilationW = d.W, OutH = oh, OutW = ow,
        };
    }

    /// <summary>
    /// Extracts sliding blocks, as <c>torch.nn.functional.unfold</c>: input [N, C, H, W] (or [C, H, W]) →
    /// [N, C·KH·KW, L] with L the number of block positions; rows ordered (c, kh, kw).
    /// </summary>
    public static Tensor Unfold(Tensor input, Pair kernelSize, Pair? dilation = null, Pair? padding = null, Pair? stride = null)
    {
        const string op = "unfold";
        if (input.Dim != 3 && input.Dim != 4 || input.Sizes[^3..].Any(v => v == 0))
            throw new ArgumentException($"{op}: Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {ShapeUtil.Format(input.Sizes)}");
        bool unbatched = input.Dim == 3;
        var x = unbatched ? input.Unsqueeze(0) : input;
        var p = SlidingGeometry(x.Sizes[0], x.Sizes[1], x.Sizes[2], x.Sizes[3], kernelSize, dilation ?? 1, padding ?? 0, stride ?? 1, op);
        var y = UnfoldRaw(x, p);
        var r = Autograd.Record(y, x, g => FoldRaw(g, p));
        return unbatched ? r.Squeeze(0) : r;
    }

    /// <summary>
    /// Sums sliding blocks back into an image, as <c>torch.nn.functional.fold</c> (the adjoint of
    /// <see cref="Unfold"/>): input [N, C·KH·KW, L] (or [C·KH·KW, L]) → [N, C, outputSize.H, outputSize.W].
    /// </summary>
    public static Tensor Fold(Tensor input, Pair outputSize, Pair kernelSize, Pair? dilation = null, Pair? padding = null, Pair? stride = null)
    {
        const string op = "fold";
        if (input.Dim != 2 && input.Dim != 3 || input.Sizes[^2..].Any(v => v == 0))
            throw new ArgumentException($"{op}: Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero dimensions for input, but got: {ShapeUtil.Format(input.Sizes)}");
        bool unbatched = input.Dim == 2;
        var x = unbatched ? input.Unsqueeze(0) : input;
        Pair k = kernelSize;
        int blocks = k.H * k.W;
        if (blocks <= 0 || x.Sizes[1] % blocks != 0)
            throw new ArgumentException($"{op}: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={x.Sizes[1]} and kernel_size={k}");
        if (outputSize.H <= 0 || outputSize.W <= 0)
            throw new ArgumentException($"{op}: Expected output_size to be positive, but got output_size={outputSize}");
        var p = SlidingGeometry(x.Sizes[0], x.Sizes[1] / blocks, outputSize.H, outputSize.W, k, dilation ?? 1, padding ?? 0, stride ?? 1, op);
        if (x.Sizes[2] != p.OutPlane)
            throw new ArgumentException($"{op}: Given output_size={outputSize}, kernel_size={k}, dilation={dilation ?? 1}, padding={padding ?? 0}, stride={stride ?? 1}, expected size of input's dimension 2 to match the calculated number of sliding blocks {p.OutH} * {p.OutW} = {p.OutPlane}, but got input.size(2)={x.Sizes[2]}.");
        var y = FoldRaw(x, p);
        var r = Autograd.Record(y, x, g => UnfoldRaw(g, p));
        return unbatched ? r.Squeeze(0) : r;
    }

    private static Tensor UnfoldRaw(Tensor x, Conv2dParams p)
    {
        var src = x.Contiguous().Span;
        var y = Tensor.Empty(p.N, p.CIn * p.KH * p.KW, p.OutPlane);
        int inSize = p.CIn * p.InPlane, colSize = p.CIn * p.KH * p.KW * p.OutPlane;
        for (int n = 0; n < p.N; n++)
            Im2Col.Unfold(src.Slice(n * inSize, inSize), y.Span.Slice(n * colSize, colSize), p.CIn, p, p.OutPlane);
        return y;
    }

    private static Tensor FoldRaw(Tensor col, Conv2dParams p)
    {
        var src = col.Contiguous().Span;
        var y = Tensor.Zeros(p.N, p.CIn, p.H, p.W);
        int inSize = p.CIn * p.InPlane, colSize = p.CIn * p.KH * p.KW * p.OutPlane;
        for (int n = 0; n < p.N; n++)
            Im2Col.FoldAdd(src.Slice(n * colSize, colSize), y.Span.Slice(n * inSize, inSize), p.CIn, p, p.OutPlane);
        return y;
    }
}
