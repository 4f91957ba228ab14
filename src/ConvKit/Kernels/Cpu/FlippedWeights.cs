using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The A operand of a stride-1 adjoint run as a forward correlation, read from the conv's own weights: w [COut, CIn/g,
/// taps] of one group seen as A [CIn/g, COut·taps] with A(i, (co, t)) = w[co, i, taps − 1 − t], the spatially flipped,
/// channel-swapped filters. Packing A from this view replaces a flipped copy of the weights, which for wide layers on
/// small planes cost as much as the GEMM it fed (N1 C512 7×7: 9.4 MB written and read again per call).
/// </summary>
internal readonly unsafe struct FlippedWeights(float* w, int rows, int taps)
{
    /// <summary>The weights (row 0 of the view), the view's full row count (w's CIn/g) and the taps per filter.</summary>
    public readonly float* W = w;
    public readonly int Rows = rows, Taps = taps;

    public bool IsSet => W != null;

    /// <summary>The view from row <paramref name="i0"/> on.</summary>
    public FlippedWeights From(int i0) => IsSet ? new(W + (long)i0 * Taps, Rows, Taps) : default;

    /// <summary>Rows i0..i0+mc, columns p0..p0+kc of the view into <paramref name="height"/>-row slivers, as PackA lays them out.</summary>
    public void Pack(int i0, int mc, int p0, int kc, float* dst, int height)
    {
        // A 16-row sliver's taps of one output channel are 16·taps consecutive floats of w: two 8×8 transposes store its
        // first eight taps as k rows (written backwards, the flip), the rest go one by one.
        bool transposes = height == Gemm.MR512 && Taps >= 8 && Avx.IsSupported && !Gemm.ForceScalar;
        for (int ir = 0; ir < mc; ir += height, dst += height * kc)
        {
            int mr = Math.Min(height, mc - ir);
            float* rows = W + (long)(i0 + ir) * Taps;
            for (int q = 0; q < kc;)
            {
                int p = p0 + q, co = p / Taps, t = p - co * Taps;
                float* filter = rows + (long)co * Rows * Taps;
                float* d = dst + (long)q * height;
                if (transposes && mr == height && t == 0 && q + Taps <= kc)
                {
                    Gemm.Transpose8x8(filter, Taps, d + (Taps - 1) * height, -height);
                    Gemm.Transpose8x8(filter + 8 * Taps, Taps, d + (Taps - 1) * height + 8, -height);
                    for (int u = 8; u < Taps; u++)
                        for (int r = 0; r < height; r++) d[(Taps - 1 - u) * height + r] = filter[r * Taps + u];
                    q += Taps;
                    continue;
                }
                float* src = filter + (Taps - 1 - t);
                int i = 0;
                for (; i < mr; i++) d[i] = src[(long)i * Taps];
                for (; i < height; i++) d[i] = 0f;
                q++;
            }
        }
    }
}
