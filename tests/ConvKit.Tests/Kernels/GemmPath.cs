using ConvKit.Kernels.Cpu;

namespace ConvKit.Tests.Kernels;

/// <summary>The GEMM micro-kernel a test forces: the CPU's own (AVX-512 where it has it), AVX2/FMA, or the portable one.</summary>
public enum GemmPath
{
    Native,
    Avx2,
    Portable,
}

/// <summary>Runs a body with <see cref="Gemm.ForceScalar"/> / <see cref="Gemm.ForceAvx2"/> set for a path, and restores them.</summary>
internal static class GemmPaths
{
    public static readonly GemmPath[] All = [GemmPath.Native, GemmPath.Avx2, GemmPath.Portable];

    public static void With(GemmPath path, Action body)
    {
        bool scalar = Gemm.ForceScalar, avx2 = Gemm.ForceAvx2;
        Gemm.ForceScalar = path == GemmPath.Portable;
        Gemm.ForceAvx2 = path == GemmPath.Avx2;
        try { body(); }
        finally { Gemm.ForceScalar = scalar; Gemm.ForceAvx2 = avx2; }
    }
}

/// <summary>A fact that needs AVX-512: reported as skipped on a CPU without it.</summary>
public sealed class Avx512FactAttribute : Xunit.FactAttribute
{
    public Avx512FactAttribute()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Skip = "this CPU has no AVX-512";
    }
}

/// <summary>A fact that needs AVX2 and FMA: reported as skipped on a CPU without them.</summary>
public sealed class Avx2FactAttribute : Xunit.FactAttribute
{
    public Avx2FactAttribute()
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported || !System.Runtime.Intrinsics.X86.Fma.IsSupported) Skip = "this CPU has no AVX2/FMA";
    }
}
