using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;

namespace ConvKit.Kernels;

/// <summary>
/// The kernel boundary for convolutions: three contiguous-span entry points (forward, adjoint, weight
/// gradient) sharing one <see cref="Conv2dParams"/>, dispatched to the reference or a fast kernel.
/// </summary>
internal static class ConvKernels
{
    public static ConvAlgorithm Choose(Conv2dParams p) => Engine.Algorithm switch
    {
        ConvAlgorithm.Auto => ConvAlgorithm.Im2ColGemm,
        var forced => forced,
    };

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        if (y.IsEmpty) return;
        if (Choose(p) == ConvAlgorithm.Reference) ReferenceConv.Forward(x, w, bias, y, p);
        else Im2ColGemmConv.Forward(x, w, bias, y, p);
    }

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        if (x.IsEmpty) return;
        if (Choose(p) == ConvAlgorithm.Reference) ReferenceConv.Adjoint(y, w, bias, x, p);
        else Im2ColGemmConv.Adjoint(y, w, bias, x, p);
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        if (dw.IsEmpty) return;
        if (Choose(p) == ConvAlgorithm.Reference) ReferenceConv.WeightGrad(x, dy, dw, p);
        else Im2ColGemmConv.WeightGrad(x, dy, dw, p);
    }
}
