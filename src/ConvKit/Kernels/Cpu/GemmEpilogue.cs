using System.Runtime.Intrinsics;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Per-row work fused into the GEMM. <see cref="Bias"/> starts row i's accumulators at Bias[i] (first K slice);
/// <see cref="Scale"/>, <see cref="Shift"/> and <see cref="Relu"/> map each finished tile (last K slice) to
/// c = c·Scale[i] + Shift[i], then max(c, 0) — a convolution's bias, an eval-mode batch norm and a ReLU with no pass
/// of their own over the output. Null pointers mean 1 (scale) or 0 (bias, shift). Meant for accumulate = false.
/// </summary>
internal readonly unsafe struct GemmEpilogue(float* bias, float* scale = null, float* shift = null, bool relu = false)
{
    public readonly float* Bias = bias, Scale = scale, Shift = shift;
    public readonly bool Relu = relu;

    public bool HasMap => Scale != null || Shift != null || Relu;

    /// <summary>The same epilogue for the rows from <paramref name="start"/> on.</summary>
    public GemmEpilogue Rows(int start) =>
        new(Bias == null ? null : Bias + start, Scale == null ? null : Scale + start, Shift == null ? null : Shift + start, Relu);

    /// <summary>Applies the map to the rows × cols block at <paramref name="c"/> (row stride ldc).</summary>
    public void Map(float* c, int ldc, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            float* r = c + (long)i * ldc;
            float a = Scale == null ? 1f : Scale[i], b = Shift == null ? 0f : Shift[i];
            var va = Vector256.Create(a); var vb = Vector256.Create(b);
            int j = 0;
            for (; j + 8 <= cols; j += 8)
            {
                var v = Vector256.Load(r + j) * va + vb;
                // max(0, v) keeps a NaN, as torch.relu does.
                if (Relu) v = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v);
                v.Store(r + j);
            }
            for (; j < cols; j++)
            {
                float v = r[j] * a + b;
                r[j] = Relu && v < 0 ? 0f : v;
            }
        }
    }
}
