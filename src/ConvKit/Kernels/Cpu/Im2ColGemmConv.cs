using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Convolution as GEMM over im2col matrices, batched: a chunk of images is unfolded side by side into
/// col [CIn/g·KH·KW, n·OutH·OutW] (in parallel over images) so each group runs one large GEMM,
///   forward      Yt = W_g · col, scattered back to [N, COut, OutH, OutW] (+ bias),
///   adjoint      col = W_gᵀ · Yt, folded back into each image (col2im),
///   weight grad  dW_g += Yt · colᵀ.
/// Per-image GEMMs would have n = OutH·OutW (often 49–196), too narrow for the packed kernel; batching makes
/// n = chunk·OutH·OutW. Chunks bound the workspace (<see cref="ColBudget"/> floats). A single 1×1, stride-1,
/// unpadded image uses its input directly as col.
/// </summary>
internal static unsafe class Im2ColGemmConv
{
    /// <summary>Largest col workspace, in floats (4 MiB): wide enough for efficient GEMMs, small enough to stay in cache between im2col and GEMM.</summary>
    private const long ColBudget = 1L << 20;

    private static bool IsPointwise(Conv2dParams p) =>
        p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadTop == 0 && p.PadLeft == 0 && p.OutH == p.H && p.OutW == p.W;

    private static int ChunkSize(Conv2dParams p) =>
        (int)Math.Clamp(ColBudget / Math.Max(1L, (long)p.ColRows * p.OutPlane), 1, Math.Max(p.N, 1));

    /// <summary>Runs <paramref name="body"/>(n0, nc) over image chunks with rented col and Yt workspaces.</summary>
    private static void Chunks(Conv2dParams p, Action<int, int, nint, nint> body)
    {
        int chunk = ChunkSize(p);
        long colFloats = (long)p.ColRows * chunk * p.OutPlane, ytFloats = (long)p.COutPerGroup * chunk * p.OutPlane;
        var col = ArrayPool<float>.Shared.Rent((int)colFloats);
        var yt = ArrayPool<float>.Shared.Rent((int)ytFloats);
        try
        {
            fixed (float* pc = col, py = yt)
                for (int n0 = 0; n0 < p.N; n0 += chunk)
                    body(n0, Math.Min(chunk, p.N - n0), (nint)pc, (nint)py);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
            ArrayPool<float>.Shared.Return(yt);
        }
    }

    /// <summary>Unfolds images n0..n0+nc of group g into col, side by side.</summary>
    private static void UnfoldChunk(float* x, float* col, Conv2dParams p, int g, int n0, int nc)
    {
        int cig = p.CInPerGroup, plane = p.OutPlane, stride = nc * plane;
        nint xs = (nint)x, cs = (nint)col;
        Parallelism.For(nc, i =>
        {
            var src = new ReadOnlySpan<float>((float*)xs + ((long)(n0 + i) * p.CIn + g * cig) * p.InPlane, cig * p.InPlane);
            var dst = new Span<float>((float*)cs + (long)i * plane, (p.ColRows - 1) * stride + plane);
            Im2Col.Unfold(src, dst, cig, p, stride);
        });
    }

    /// <summary>Copies between [N, COut, P] images and the group's Yt [COut/g, nc·P] (toYt gathers, else scatters with bias).</summary>
    private static void Transfer(float* images, float* yt, ReadOnlySpan<float> bias, Conv2dParams p, int g, int n0, int nc, bool toYt)
    {
        int cog = p.COutPerGroup, plane = p.OutPlane, stride = nc * plane;
        nint im = (nint)images, ys = (nint)yt;
        float[]? b = bias.IsEmpty ? null : bias.ToArray();
        Parallelism.For(nc, i =>
        {
            for (int co = 0; co < cog; co++)
            {
                var img = new Span<float>((float*)im + ((long)(n0 + i) * p.COut + g * cog + co) * plane, plane);
                var row = new Span<float>((float*)ys + (long)co * stride + (long)i * plane, plane);
                if (toYt) img.CopyTo(row);
                else if (b is null) row.CopyTo(img);
                else TensorPrimitives.Add(row, b[g * cog + co], img);
            }
        });
    }

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p)
    {
        int rows = p.ColRows, cog = p.COutPerGroup;
        var b = bias.ToArray();
        fixed (float* px = x, pw = w, py = y)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            for (int g = 0; g < p.Groups; g++)
            {
                int gg = g;
                Chunks(p, (n0, nc, col, yt) =>
                {
                    UnfoldChunk((float*)xs, (float*)col, p, gg, n0, nc);
                    int n = nc * p.OutPlane;
                    Gemm.Sgemm(false, false, cog, n, rows, (float*)ws + (long)gg * cog * rows, rows, (float*)col, n, (float*)yt, n, false, Parallelism.Threads);
                    Transfer((float*)ys, (float*)yt, b, p, gg, n0, nc, toYt: false);
                });
            }
        }
    }

    /// <summary>
    /// The adjoint as a forward correlation, possible for stride 1: x = corr(y, w flipped in space with in/out channels
    /// swapped, padding dilation·(K − 1) − padding). It replaces col2im's scattered adds with im2col's block copies.
    /// </summary>
    internal static Conv2dParams? FlippedForward(Conv2dParams p)
    {
        int pt = p.DilationH * (p.KH - 1) - p.PadTop, pl = p.DilationW * (p.KW - 1) - p.PadLeft;
        if (p.StrideH != 1 || p.StrideW != 1 || pt < 0 || pl < 0) return null;
        return p with { CIn = p.COut, H = p.OutH, W = p.OutW, COut = p.CIn, PadTop = pt, PadLeft = pl, OutH = p.H, OutW = p.W };
    }

    /// <summary>w [COut, CIn/g, KH, KW] → [CIn, COut/g, KH, KW] flipped in both spatial axes, per group.</summary>
    internal static float[] FlipWeight(ReadOnlySpan<float> w, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, k = p.KH * p.KW;
        var f = new float[w.Length];
        for (int g = 0; g < p.Groups; g++)
        for (int co = 0; co < cog; co++)
        for (int ci = 0; ci < cig; ci++)
        {
            var src = w.Slice(((g * cog + co) * cig + ci) * k, k);
            var dst = f.AsSpan(((g * cig + ci) * cog + co) * k, k);
            for (int t = 0; t < k; t++) dst[k - 1 - t] = src[t];
        }
        return f;
    }

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        if (FlippedForward(p) is { } flipped)
        {
            Forward(y, FlipWeight(w, p), bias, x, flipped);
            return;
        }
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup;
        fixed (float* px = x, pw = w, py = y)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            if (IsPointwise(p) && p.N == 1)
            {
                for (int g = 0; g < p.Groups; g++)
                    Gemm.Sgemm(true, false, rows, p.OutPlane, cog, pw + (long)g * cog * rows, rows, py + (long)g * cog * p.OutPlane, p.OutPlane,
                               px + (long)g * cig * p.InPlane, p.InPlane, false, Parallelism.Threads);
            }
            else
            {
                x.Clear();
                for (int g = 0; g < p.Groups; g++)
                {
                    int gg = g;
                    Chunks(p, (n0, nc, col, yt) =>
                    {
                        Transfer((float*)ys, (float*)yt, default, p, gg, n0, nc, toYt: true);
                        int n = nc * p.OutPlane;
                        Gemm.Sgemm(true, false, rows, n, cog, (float*)ws + (long)gg * cog * rows, rows, (float*)yt, n, (float*)col, n, false, Parallelism.Threads);
                        Parallelism.For(nc, i =>
                        {
                            var src = new ReadOnlySpan<float>((float*)col + (long)i * p.OutPlane, (rows - 1) * n + p.OutPlane);
                            var dst = new Span<float>((float*)xs + ((long)(n0 + i) * p.CIn + gg * cig) * p.InPlane, cig * p.InPlane);
                            Im2Col.FoldAdd(src, dst, cig, p, n);
                        });
                    });
                }
            }
        }
        if (!bias.IsEmpty) AddBias(x, bias, p.N, p.CIn, p.InPlane);
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        int rows = p.ColRows, cog = p.COutPerGroup;
        if (p.N == 0) { dw.Clear(); return; }
        fixed (float* px = x, pdw = dw, pdy = dy)
        {
            nint xs = (nint)px, ws = (nint)pdw, ys = (nint)pdy;
            for (int g = 0; g < p.Groups; g++)
            {
                int gg = g;
                bool first = true;
                Chunks(p, (n0, nc, col, yt) =>
                {
                    UnfoldChunk((float*)xs, (float*)col, p, gg, n0, nc);
                    Transfer((float*)ys, (float*)yt, default, p, gg, n0, nc, toYt: true);
                    int n = nc * p.OutPlane;
                    Gemm.Sgemm(false, true, cog, rows, n, (float*)yt, n, (float*)col, n, (float*)ws + (long)gg * cog * rows, rows, !first, Parallelism.Threads);
                    first = false;
                });
            }
        }
    }

    private static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int n, int c, int plane)
    {
        for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
        {
            var s = y.Slice((i * c + k) * plane, plane);
            TensorPrimitives.Add(s, bias[k], s);
        }
    }
}
