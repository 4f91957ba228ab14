using ConvKit.Kernels.Cpu;

namespace ConvKit.Kernels;

/// <summary>
/// A per-output-channel map applied to a convolution's output y [N, COut, OutH, OutW]: y·Scale[c] + Shift[c], then
/// max(·, 0) when <see cref="Relu"/>. The GEMM paths fuse it into their epilogue; other algorithms apply it in one
/// pass after the kernel. Null arrays mean scale 1 and shift 0.
/// </summary>
internal readonly record struct ConvEpilogue(float[]? Scale, float[]? Shift, bool Relu)
{
    public bool IsIdentity => Scale is null && Shift is null && !Relu;

    /// <summary>Applies the map to y in place (the algorithms that do not fuse it).</summary>
    public unsafe void Apply(Span<float> y, Conv2dParams p)
    {
        if (IsIdentity) return;
        fixed (float* py = y, sc = Scale, sh = Shift)
        {
            var map = new GemmEpilogue(null, sc, sh, Relu);
            for (int n = 0; n < p.N; n++) map.Map(py + (long)n * p.COut * p.OutPlane, p.OutPlane, p.COut, p.OutPlane);
        }
    }
}
