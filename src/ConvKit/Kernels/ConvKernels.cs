using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;

namespace ConvKit.Kernels;

/// <summary>
/// The kernel boundary for convolutions: three contiguous-span entry points (forward, adjoint, weight
/// gradient) sharing one <see cref="Conv2dParams"/>, dispatched to the reference or a fast kernel.
/// </summary>
internal static class ConvKernels
{
    /// <summary>
    /// The algorithm for a geometry: the forced one when it applies, else depthwise for depthwise layers, else Winograd
    /// where it wins (F(4×4) when <paramref name="inference"/> holds, F(2×2) otherwise), else, for inference, the row
    /// Winograd where <see cref="RowWinogradConv.Wins"/> (off by default), else im2col + GEMM.
    /// </summary>
    /// <param name="p">The convolution's geometry.</param>
    /// <param name="inference">
    /// True when the result feeds no gradient (no backward is recorded and this is not a backward pass). Only then does
    /// Auto pick Winograd F(4×4): its error stays within a few ulps of the summed terms (see its tests), but a train-mode
    /// batch norm's backward amplifies that past PyTorch's own float32 error (measured: ResNet18's and FCN-ResNet18's stem
    /// weight gradients 1.6e-3 and 10 % off torchvision's, against 1e-3 + 2× PyTorch's float32 error allowed). Training
    /// (the forward and the data-gradient adjoint) uses F(2×2) instead where it wins (<see cref="F2x2.Wins"/>): its
    /// coefficients are 0, ±1, ±½, so the summed terms are at most 4× the direct ones instead of ~10², and those golden
    /// gradient tests pass with it even when it runs every 3×3 stride-1 convolution. The weight gradient follows the same
    /// choice: F(2×2)'s (16 multiplies per 2×2 tile and channel pair instead of 36) measured 1.4–2.0× faster than im2col's on
    /// the training layers it is picked for (N8 C64 56×56, N2 C64 128×128, N8 C128 28×28, N8 C256 14×14, N64 C64 14×14,
    /// N2 C512 16×16; paired runs, 2 threads), with errors under 1 ε·m in its tests; forced F(4×4) keeps im2col's.
    /// </param>
    /// <param name="weightGradient">
    /// True for the weight gradient, a training pass whose F(2×2) rule is <see cref="F2x2.WinsWeightGradient"/>: it still
    /// wins on odd planes whose padded tiles make the forward and the adjoint lose.
    /// </param>
    public static ConvAlgorithm Choose(Conv2dParams p, bool inference = true, bool weightGradient = false) => Engine.Algorithm switch
    {
        ConvAlgorithm.Reference => ConvAlgorithm.Reference,
        ConvAlgorithm.Im2ColGemm => ConvAlgorithm.Im2ColGemm,
        ConvAlgorithm.Winograd or ConvAlgorithm.Winograd2 when WinogradConv.Applies(p) => Engine.Algorithm,
        ConvAlgorithm.RowWinograd when RowWinogradConv.Applies(p) => ConvAlgorithm.RowWinograd,
        _ => DepthwiseConv.Applies(p) ? ConvAlgorithm.Depthwise
            : inference ? (F4x4.Wins(p) ? ConvAlgorithm.Winograd : RowWinogradConv.Wins(p) ? ConvAlgorithm.RowWinograd : ConvAlgorithm.Im2ColGemm)
            : (weightGradient ? F2x2.WinsWeightGradient(p) : F2x2.Wins(p)) ? ConvAlgorithm.Winograd2 : ConvAlgorithm.Im2ColGemm,
    };

    /// <summary>
    /// The forward followed by <paramref name="map"/> (fused into the GEMM's epilogue on the im2col path, into the output
    /// transform on Winograd's). Given the array w lies in (weightStorage, at weightOffset), an inference call on a layer
    /// <see cref="F4x4.WinsWithCachedFilters"/> picks runs F(4×4) on filters <see cref="WinogradFilterCache"/> keeps for
    /// the next call with equal weights.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p,
                               ConvEpilogue map = default, bool inference = true, float[]? weightStorage = null, int weightOffset = 0)
    {
        if (y.IsEmpty) return;
        if (inference && weightStorage is not null && Engine.Algorithm == ConvAlgorithm.Auto && Engine.FilterCacheBytes > 0
            && F4x4.WinsWithCachedFilters(p))
        {
            // Without room in the cache the filters are transformed as usual: the same bits, just not kept.
            var filters = WinogradFilterCache.Get<F4x4>(weightStorage, weightOffset, w, p);
            WinogradConv<F4x4>.Forward(x, w, bias, y, p, int.MaxValue, map: map, filters: filters);
            return;
        }
        switch (Choose(p, inference))
        {
            case ConvAlgorithm.Im2ColGemm: Im2ColGemmConv.Forward(x, w, bias, y, p, map); break;
            case ConvAlgorithm.Winograd: WinogradConv<F4x4>.Forward(x, w, bias, y, p, map); break;
            case ConvAlgorithm.Winograd2: WinogradConv<F2x2>.Forward(x, w, bias, y, p, map); break;
            case ConvAlgorithm.RowWinograd: RowWinogradConv.Forward(x, w, bias, y, p, map); break;
            case var unfused:
                ForwardUnfused(x, w, bias, y, p, unfused);
                map.Apply(y, p);
                break;
        }
    }

    private static void ForwardUnfused(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p,
                                       ConvAlgorithm algorithm)
    {
        switch (algorithm)
        {
            case ConvAlgorithm.Reference: ReferenceConv.Forward(x, w, bias, y, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.Forward(x, w, bias, y, p); break;
            default: Im2ColGemmConv.Forward(x, w, bias, y, p); break;
        }
    }

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p,
                               bool inference = true)
    {
        if (x.IsEmpty) return;
        switch (Choose(p, inference))
        {
            case ConvAlgorithm.Reference: ReferenceConv.Adjoint(y, w, bias, x, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.Adjoint(y, w, bias, x, p); break;
            case ConvAlgorithm.Winograd: WinogradConv<F4x4>.Adjoint(y, w, bias, x, p, forced: Engine.Algorithm == ConvAlgorithm.Winograd); break;
            case ConvAlgorithm.Winograd2: WinogradConv<F2x2>.Adjoint(y, w, bias, x, p, forced: Engine.Algorithm == ConvAlgorithm.Winograd2); break;
            default: Im2ColGemmConv.Adjoint(y, w, bias, x, p); break;
        }
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        if (dw.IsEmpty) return;
        switch (Choose(p, inference: false, weightGradient: true))
        {
            case ConvAlgorithm.Reference: ReferenceConv.WeightGrad(x, dy, dw, p); break;
            case ConvAlgorithm.Depthwise: DepthwiseConv.WeightGrad(x, dy, dw, p); break;
            case ConvAlgorithm.Winograd2: WinogradConv<F2x2>.WeightGrad(x, dy, dw, p); break;
            default: Im2ColGemmConv.WeightGrad(x, dy, dw, p); break;
        }
    }
}
