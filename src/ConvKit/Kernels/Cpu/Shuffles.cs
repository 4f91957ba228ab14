using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>Register shuffles shared by the stride-2 kernels and folds (AVX; callers check Avx.IsSupported).</summary>
internal static class Shuffles
{
    /// <summary>
    /// (even lanes, odd lanes) of the 16 floats a ‖ b, each in order: with the 128-bit halves regrouped, one shuffle
    /// picks the even (or odd) elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> a, Vector256<float> b)
    {
        Vector256<float> lo = Avx.Permute2x128(a, b, 0x20), hi = Avx.Permute2x128(a, b, 0x31);
        return (Avx.Shuffle(lo, hi, 0x88), Avx.Shuffle(lo, hi, 0xDD));
    }

    /// <summary>The inverse of <see cref="Deinterleave"/>: the 16 floats even[0], odd[0], even[1], … as (first 8, last 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Lo, Vector256<float> Hi) Interleave(Vector256<float> even, Vector256<float> odd)
    {
        Vector256<float> lo = Avx.UnpackLow(even, odd), hi = Avx.UnpackHigh(even, odd);
        return (Avx.Permute2x128(lo, hi, 0x20), Avx.Permute2x128(lo, hi, 0x31));
    }
}
