namespace ConvKit.Nn;

/// <summary>
/// 2-D convolution layer (<c>torch.nn.Conv2d</c>): weight [outChannels, inChannels/groups, KH, KW], bias
/// [outChannels]; input [N, C, H, W] or [C, H, W]. A non-"zeros" padding mode pads with
/// F.Pad (reflect, replicate, circular) and then convolves without padding, as PyTorch does.
/// </summary>
public sealed class Conv2d : Module
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public Pair Stride { get; }
    public Padding Padding { get; }
    public Pair Dilation { get; }
    public int Groups { get; }
    public string PaddingMode { get; }
    private readonly int[] _reversedPadding;

    public Conv2d(int inChannels, int outChannels, Pair kernelSize, Pair? stride = null, Padding? padding = null, Pair? dilation = null,
                  int groups = 1, bool bias = true, string paddingMode = "zeros")
    {
        ConvModule.CheckChannels(inChannels, outChannels, kernelSize, groups, "Conv2d");
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        F.ParsePadMode(paddingMode);
        PaddingMode = paddingMode;
        if (Padding.IsSame && (Stride.H != 1 || Stride.W != 1))
            throw new ArgumentException($"Conv2d: padding='same' is not supported for strided convolutions, got stride={Stride}");
        _reversedPadding = ReversedPadding(Padding, kernelSize, Dilation);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty(outChannels, inChannels / groups, kernelSize.H, kernelSize.W)));
        Bias = RegisterOptionalParameter("bias", bias ? new Parameter(Tensor.Empty(outChannels)) : null);
        Init.DefaultLayer(Weight, Bias);
    }

    /// <summary>[left, right, top, bottom] amounts, the F.Pad order; "same" splits an odd total with the extra at the end.</summary>
    private static int[] ReversedPadding(Padding p, Pair k, Pair d)
    {
        if (!p.IsSame) return [p.Size.W, p.Size.W, p.Size.H, p.Size.H];
        int th = d.H * (k.H - 1), tw = d.W * (k.W - 1);
        return [tw / 2, tw - tw / 2, th / 2, th - th / 2];
    }

    public override Tensor Forward(Tensor input)
    {
        if (PaddingMode == "zeros") return F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
        var padded = F.Pad(input, _reversedPadding, F.ParsePadMode(PaddingMode));
        return F.Conv2d(padded, Weight, Bias, Stride, 0, Dilation, Groups);
    }

    protected override string ExtraRepr() =>
        $"{Weight.Sizes[1] * Groups}, {Weight.Sizes[0]}, kernel_size=({Weight.Sizes[2]}, {Weight.Sizes[3]}), stride={Stride}" +
        (Padding.IsSame || Padding.Size != new Pair(0, 0) ? $", padding={Padding}" : "") +
        (Dilation != new Pair(1, 1) ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "") +
        (Bias is null ? ", bias=False" : "") + (PaddingMode != "zeros" ? $", padding_mode={PaddingMode}" : "");
}

/// <summary>
/// 2-D transposed convolution layer (<c>torch.nn.ConvTranspose2d</c>): weight [inChannels, outChannels/groups, KH, KW],
/// bias [outChannels]; output size (H − 1)·stride − 2·padding + dilation·(K − 1) + outputPadding + 1.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public Pair Stride { get; }
    public Pair Padding { get; }
    public Pair OutputPadding { get; }
    public Pair Dilation { get; }
    public int Groups { get; }

    public ConvTranspose2d(int inChannels, int outChannels, Pair kernelSize, Pair? stride = null, Pair? padding = null, Pair? outputPadding = null,
                           int groups = 1, bool bias = true, Pair? dilation = null, string paddingMode = "zeros")
    {
        ConvModule.CheckChannels(inChannels, outChannels, kernelSize, groups, "ConvTranspose2d");
        if (paddingMode != "zeros") throw new ArgumentException($"ConvTranspose2d: Only \"zeros\" padding mode is supported for ConvTranspose2d, got '{paddingMode}'");
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty(inChannels, outChannels / groups, kernelSize.H, kernelSize.W)));
        Bias = RegisterOptionalParameter("bias", bias ? new Parameter(Tensor.Empty(outChannels)) : null);
        Init.DefaultLayer(Weight, Bias);
    }

    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    /// <summary>Forward to an explicit output size (<c>forward(input, output_size)</c>): the output padding is chosen to reach it.</summary>
    public Tensor Forward(Tensor input, Pair outputSize)
    {
        int h = input.Sizes[^2], w = input.Sizes[^1];
        int kh = Weight.Sizes[2], kw = Weight.Sizes[3];
        int minH = (h - 1) * Stride.H - 2 * Padding.H + Dilation.H * (kh - 1) + 1;
        int minW = (w - 1) * Stride.W - 2 * Padding.W + Dilation.W * (kw - 1) + 1;
        int oph = outputSize.H - minH, opw = outputSize.W - minW;
        if (oph < 0 || opw < 0 || oph >= Math.Max(Stride.H, Dilation.H) || opw >= Math.Max(Stride.W, Dilation.W))
            throw new ArgumentException($"ConvTranspose2d: requested an output size of {outputSize}, but valid sizes range from ({minH}, {minW}) to ({minH + Math.Max(Stride.H, Dilation.H) - 1}, {minW + Math.Max(Stride.W, Dilation.W) - 1}) (for an input of [{h}, {w}])");
        return F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, (oph, opw), Groups, Dilation);
    }

    protected override string ExtraRepr() =>
        $"{Weight.Sizes[0]}, {Weight.Sizes[1] * Groups}, kernel_size=({Weight.Sizes[2]}, {Weight.Sizes[3]}), stride={Stride}" +
        (Padding != new Pair(0, 0) ? $", padding={Padding}" : "") + (OutputPadding != new Pair(0, 0) ? $", output_padding={OutputPadding}" : "") +
        (Groups != 1 ? $", groups={Groups}" : "") + (Bias is null ? ", bias=False" : "") + (Dilation != new Pair(1, 1) ? $", dilation={Dilation}" : "");
}

internal static class ConvModule
{
    public static void CheckChannels(int inChannels, int outChannels, Pair k, int groups, string op)
    {
        if (groups <= 0) throw new ArgumentException($"{op}: groups must be a positive integer, got {groups}");
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"{op}: expected positive channel counts, got in_channels={inChannels}, out_channels={outChannels}");
        if (inChannels % groups != 0) throw new ArgumentException($"{op}: in_channels must be divisible by groups, got in_channels={inChannels}, groups={groups}");
        if (outChannels % groups != 0) throw new ArgumentException($"{op}: out_channels must be divisible by groups, got out_channels={outChannels}, groups={groups}");
        if (k.H <= 0 || k.W <= 0) throw new ArgumentException($"{op}: kernel_size must be positive, got {k}");
    }
}
