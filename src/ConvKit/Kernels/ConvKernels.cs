using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;

namespace ConvKit.Kernels;

/// <summary>
/// The kernel boundary for convolutions: three contiguous-span entry points (forward, adjoint, weight
/// gradient) sharing one <see cref="Conv2dParams"/>, dispatched to the reference or a fast kernel.
/// </summary>
internal static class ConvKernels
{
    /// <summary>The algorithm for a geometry: the forced one when it applies, else depthwise for depthwise layers, else Winograd where it wins, else im2col + GEMM.</summary>
    public static ConvAlgorithm Choose(Conv2dParams p) => Engine.Algorithm switch
    {
        ConvAlgorithm.Reference => ConvAlgorithm.Reference,
        ConvAlgorithm.Im2ColGemm => ConvAlgorithm.Im2ColGemm,
        ConvAlgorithm.Winograd when WinogradConv.Applies(p) => ConvAlgorithm.Winograd,
        _ => DepthwiseConv.Applies(p) ? ConvAlgorithm.Depthwise : WinogradConv.Wins(p) ? ConvAlgorithm.Winograd : ConvAlgorithm.Im2ColGemm,
    };

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        if (y.IsEmpty) return;
        switch (Choose(p))
        {
            case ConvAlgorithm.Reference: ReferenceConv.Forward(x, w, bias, y, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.Forward(x, w, bias, y, p); break;
            case ConvAlgorithm.Winograd: WinogradConv.Forward(x, w, bias, y, p); break;
            default: Im2ColGemmConv.Forward(x, w, bias, y, p); break;
        }
    }

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        if (x.IsEmpty) return;
        switch (Choose(p))
        {
            case ConvAlgorithm.Reference: ReferenceConv.Adjoint(y, w, bias, x, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.Adjoint(y, w, bias, x, p); break;
            case ConvAlgorithm.Winograd: WinogradConv.Adjoint(y, w, bias, x, p, forced: Engine.Algorithm == ConvAlgorithm.Winograd); break;
            default: Im2ColGemmConv.Adjoint(y, w, bias, x, p); break;
        }
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        if (dw.IsEmpty) return;
        switch (Choose(p))
        {
            case ConvAlgorithm.Reference: ReferenceConv.WeightGrad(x, dy, dw, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.WeightGrad(x, dy, dw, p); break;
            default: Im2ColGemmConv.WeightGrad(x, dy, dw, p); break;
        }
    }
}
