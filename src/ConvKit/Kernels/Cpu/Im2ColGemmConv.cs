using System.Buffers;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Convolution as GEMM over the im2col matrix, per image and group:
/// forward Y_g = W_g · col, adjoint col = W_gᵀ · Y_g then col2im, weight gradient dW_g += dY_g · colᵀ.
/// A 1×1, stride-1, unpadded convolution uses the input itself as col (no copy).
/// Wins for general shapes; the fast-engine issue adds Winograd and direct kernels next to it.
/// </summary>
internal static unsafe class Im2ColGemmConv
{
    private static bool IsPointwise(Conv2dParams p) =>
        p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadTop == 0 && p.PadLeft == 0 && p.OutH == p.H && p.OutW == p.W;

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, rows = p.ColRows, plane = p.OutPlane;
        bool pointwise = IsPointwise(p);
        var col = pointwise ? null : ArrayPool<float>.Shared.Rent(rows * plane);
        try
        {
            fixed (float* px = x, pw = w, py = y, pc = col)
            for (int n = 0; n < p.N; n++)
            for (int g = 0; g < p.Groups; g++)
            {
                float* xg = px + (n * p.CIn + g * cig) * p.InPlane;
                float* b = xg;
                if (!pointwise)
                {
                    Im2Col.Unfold(new ReadOnlySpan<float>(xg, cig * p.InPlane), col.AsSpan(0, rows * plane), cig, p);
                    b = pc;
                }
                Gemm.Sgemm(false, false, cog, plane, rows, pw + g * cog * rows, rows, b, plane,
                           py + (n * p.COut + g * cog) * plane, plane, false, Engine.Threads);
            }
        }
        finally
        {
            if (col != null) ArrayPool<float>.Shared.Return(col);
        }
        if (!bias.IsEmpty) AddBias(y, bias, p.N, p.COut, plane);
    }

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, rows = p.ColRows, plane = p.OutPlane;
        bool pointwise = IsPointwise(p);
        var col = pointwise ? null : ArrayPool<float>.Shared.Rent(rows * plane);
        try
        {
            fixed (float* px = x, pw = w, py = y, pc = col)
            for (int n = 0; n < p.N; n++)
            for (int g = 0; g < p.Groups; g++)
            {
                float* xg = px + (n * p.CIn + g * cig) * p.InPlane;
                float* a = pw + g * cog * rows;
                float* yg = py + (n * p.COut + g * cog) * plane;
                if (pointwise)
                {
                    Gemm.Sgemm(true, false, rows, plane, cog, a, rows, yg, plane, xg, plane, false, Engine.Threads);
                    continue;
                }
                Gemm.Sgemm(true, false, rows, plane, cog, a, rows, yg, plane, pc, plane, false, Engine.Threads);
                var xs = new Span<float>(xg, cig * p.InPlane);
                xs.Clear();
                Im2Col.FoldAdd(col.AsSpan(0, rows * plane), xs, cig, p);
            }
        }
        finally
        {
            if (col != null) ArrayPool<float>.Shared.Return(col);
        }
        if (!bias.IsEmpty) AddBias(x, bias, p.N, p.CIn, p.InPlane);
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, rows = p.ColRows, plane = p.OutPlane;
        bool pointwise = IsPointwise(p);
        var col = pointwise ? null : ArrayPool<float>.Shared.Rent(rows * plane);
        dw.Clear();
        try
        {
            fixed (float* px = x, pdw = dw, pdy = dy, pc = col)
            for (int n = 0; n < p.N; n++)
            for (int g = 0; g < p.Groups; g++)
            {
                float* xg = px + (n * p.CIn + g * cig) * p.InPlane;
                float* b = xg;
                if (!pointwise)
                {
                    Im2Col.Unfold(new ReadOnlySpan<float>(xg, cig * p.InPlane), col.AsSpan(0, rows * plane), cig, p);
                    b = pc;
                }
                Gemm.Sgemm(false, true, cog, rows, plane, pdy + (n * p.COut + g * cog) * plane, plane, b, plane,
                           pdw + g * cog * rows, rows, true, Engine.Threads);
            }
        }
        finally
        {
            if (col != null) ArrayPool<float>.Shared.Return(col);
        }
    }

    private static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int n, int c, int plane)
    {
        for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
        {
            var s = y.Slice((i * c + k) * plane, plane);
            System.Numerics.Tensors.TensorPrimitives.Add(s, bias[k], s);
        }
    }
}
