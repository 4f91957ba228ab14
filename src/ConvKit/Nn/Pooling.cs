namespace ConvKit.Nn;

/// <summary><c>torch.nn.MaxPool2d</c>; stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(Pair kernelSize, Pair? stride = null, Pair? padding = null, Pair? dilation = null, bool ceilMode = false) : Module
{
    public Pair KernelSize => kernelSize;
    public Pair Stride => stride ?? kernelSize;
    public Pair Padding => padding ?? 0;
    public Pair Dilation => dilation ?? 1;
    public bool CeilMode => ceilMode;
    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, kernelSize, stride, padding, dilation, ceilMode);
    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding ?? 0}, dilation={dilation ?? 1}, ceil_mode={ceilMode}";
}

/// <summary><c>torch.nn.AvgPool2d</c>; stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(Pair kernelSize, Pair? stride = null, Pair? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) : Module
{
    public Pair KernelSize => kernelSize;
    public Pair Stride => stride ?? kernelSize;
    public Pair Padding => padding ?? 0;
    public bool CeilMode => ceilMode;
    public bool CountIncludePad => countIncludePad;
    public int? DivisorOverride => divisorOverride;
    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride);
    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding ?? 0}";
}

/// <summary><c>torch.nn.AdaptiveAvgPool2d</c>.</summary>
public sealed class AdaptiveAvgPool2d(Pair outputSize) : Module
{
    public Pair OutputSize => outputSize;
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, outputSize);
    protected override string ExtraRepr() => $"output_size={outputSize}";
}

/// <summary><c>torch.nn.AdaptiveMaxPool2d</c>.</summary>
public sealed class AdaptiveMaxPool2d(Pair outputSize) : Module
{
    public override Tensor Forward(Tensor input) => F.AdaptiveMaxPool2d(input, outputSize);
    protected override string ExtraRepr() => $"output_size={outputSize}";
}

/// <summary><c>torch.nn.Upsample</c>: F.Interpolate by size or scale factor.</summary>
public sealed class Upsample(Pair? size = null, ScalePair? scaleFactor = null, string mode = "nearest", bool? alignCorners = null) : Module
{
    public Pair? Size => size;
    public ScalePair? ScaleFactor => scaleFactor;
    public string Mode => mode;
    public bool? AlignCorners => alignCorners;
    public override Tensor Forward(Tensor input) => F.Interpolate(input, size, scaleFactor, mode, alignCorners);
    protected override string ExtraRepr() => $"size={size}, scale_factor={scaleFactor}, mode='{mode}'";
}
