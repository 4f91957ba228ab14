using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// Convolution as GEMM over the im2col matrix col [CIn/g·KH·KW, OutH·OutW] of each image and group,
///   forward      y_g = W_g · col (+ bias, fused into the GEMM),
///   adjoint      col = W_gᵀ · y_g, folded back into the image (col2im),
///   weight grad  dW_g += dy_g · colᵀ.
/// Forward and weight gradient never write col: <see cref="Im2ColPanel"/> and <see cref="Im2ColTransposedPanel"/> pack
/// it straight from the images into the GEMM's slivers (the implicit GEMM). Planes of at least
/// <see cref="PerImageMinPlane"/> outputs run one GEMM per image, written in place; smaller planes (ResNet's 14×14 and
/// 7×7 stages) would make GEMMs too narrow, so a chunk of images is seen side by side, [.., n·OutH·OutW], through a
/// Yt workspace of <see cref="ColBudget"/> floats at most. A 1×1, stride-1, unpadded conv reads x itself as B.
/// Wide-row forwards and narrow-row weight gradients pack from a staged copy of the images instead
/// (<see cref="StagedImages"/>). The adjoint is the flipped forward at stride 1 from 8 input channels per group, and
/// GEMM + col2im otherwise, whose fold is a scatter where the kernel tiles x and a single write where a 1×1 kernel
/// strides over it.
/// </summary>
internal static unsafe partial class Im2ColGemmConv
{
    /// <summary>Largest col workspace, in floats (4 MiB): wide enough for efficient GEMMs, small enough to stay in cache between im2col and GEMM.</summary>
    private const long ColBudget = 1L << 20;

    private static bool IsPointwise(Conv2dParams p) =>
        p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadTop == 0 && p.PadLeft == 0 && p.OutH == p.H && p.OutW == p.W;

    /// <summary>Images per chunk so that a workspace of <paramref name="rows"/> rows per image stays within <see cref="ColBudget"/>.</summary>
    private static int ChunkSize(Conv2dParams p, int rows) =>
        (int)Math.Clamp(ColBudget / Math.Max(1L, (long)rows * p.OutPlane), 1, Math.Max(p.N, 1));

    /// <summary>Runs <paramref name="body"/>(n0, nc) over image chunks with rented Yt and (when <paramref name="withCol"/>) col workspaces.</summary>
    private static void Chunks(Conv2dParams p, bool withCol, Action<int, int, nint, nint> body)
    {
        int chunk = ChunkSize(p, withCol ? p.ColRows : p.COutPerGroup);
        long colFloats = withCol ? (long)p.ColRows * chunk * p.OutPlane : 0, ytFloats = (long)p.COutPerGroup * chunk * p.OutPlane;
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

    /// <summary>Copies between [N, COut, P] images and the group's Yt [COut/g, nc·P] (toYt gathers, else scatters).</summary>
    private static void Transfer(float* images, float* yt, Conv2dParams p, int g, int n0, int nc, bool toYt)
    {
        int cog = p.COutPerGroup, plane = p.OutPlane, stride = nc * plane;
        nint im = (nint)images, ys = (nint)yt;
        Parallelism.For(nc, i =>
        {
            for (int co = 0; co < cog; co++)
            {
                var img = new Span<float>((float*)im + ((long)(n0 + i) * p.COut + g * cog + co) * plane, plane);
                var row = new Span<float>((float*)ys + (long)co * stride + (long)i * plane, plane);
                if (toYt) img.CopyTo(row);
                else row.CopyTo(img);
            }
        });
    }

    /// <summary>One GEMM per image, written in place, when the plane alone makes a wide enough GEMM or there is one image.</summary>
    internal static bool PerImage(Conv2dParams p) => p.N == 1 || p.OutPlane >= PerImageMinPlane;

    /// <summary>Output planes from this size on run one GEMM per image (n = OutH·OutW columns: 16 micro-tiles).</summary>
    internal const int PerImageMinPlane = 256;

    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p) =>
        Forward(x, w, bias, y, p, default);

    /// <summary>The forward with a per-channel <paramref name="map"/> (eval batch norm, ReLU) fused into the GEMM's epilogue.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, ConvEpilogue map) =>
        Forward(x, w, bias, y, p, map, flippedWeights: false);

    /// <summary>
    /// The forward; with <paramref name="flippedWeights"/>, w is the weight [CIn, COut/g, KH, KW] of the conv whose stride-1
    /// adjoint this forward is (<see cref="FlippedForward"/>), read flipped as the GEMM packs it (<see cref="FlippedWeights"/>).
    /// </summary>
    private static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, ConvEpilogue map,
                                bool flippedWeights)
    {
        fixed (float* sc = map.Scale, sh = map.Shift)
        {
            var epilogue = new GemmEpilogue(null, sc, sh, map.Relu);
            if (PerImage(p) || UsesGrid(p)) ImplicitForward(x, w, bias, y, p, epilogue, flippedWeights);
            else BatchedForward(x, w, bias, y, p, epilogue, flippedWeights);
        }
    }

    /// <summary>A forward's A operand W_g [COut/g, CIn/g·KH·KW]: the weights as stored, or an adjoint's read flipped.</summary>
    private readonly struct WeightsA(float* w, int taps, bool flipped)
    {
        /// <summary>C [m, n] = W_g · B, then the epilogue.</summary>
        public void Multiply<TB>(int m, int n, int k, TB b, float* c, int ldc, int threads, GemmEpilogue ep) where TB : struct, IPanelB
        {
            if (flipped) Gemm.Sgemm(new FlippedWeights(w, m, taps), m, n, k, b, c, ldc, false, threads, ep);
            else Gemm.Sgemm(false, m, n, k, w, k, b, c, ldc, false, threads, ep);
        }
    }

    /// <summary>Chunks of images side by side through Yt [COut/g, nc·P]: the GEMM's B columns run across images.</summary>
    private static void BatchedForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p,
                                       GemmEpilogue map, bool flippedWeights)
    {
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup;
        fixed (float* px = x, pw = w, py = y, pb = bias)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py, bs = bias.IsEmpty ? 0 : (nint)pb;
            for (int g = 0; g < p.Groups; g++)
            {
                int gg = g;
                Chunks(p, withCol: false, (n0, nc, _, yt) =>
                {
                    int n = nc * p.OutPlane;
                    ConvGemm(new WeightsA((float*)ws + (long)gg * cog * rows, p.KH * p.KW, flippedWeights), (float*)xs + ((long)n0 * p.CIn + gg * cig) * p.InPlane, p.CIn * p.InPlane, nc,
                             (float*)yt, n, p, Parallelism.Threads, WithBias(map, bs, gg * cog));
                    Transfer((float*)ys, (float*)yt, p, gg, n0, nc, toYt: false);
                });
            }
        }
    }

    /// <summary>
    /// y = W_g · col(x_i) per image and group, col packed from the image (<see cref="Im2ColPanel"/>; a 1×1 stride-1 unpadded
    /// conv reads x as B directly; layers <see cref="UsesGrid"/> takes run on the padded grid).
    /// </summary>
    private static void ImplicitForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p,
                                        GemmEpilogue map, bool flippedWeights)
    {
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup, plane = p.OutPlane;
        bool pointwise = IsPointwise(p), grid = UsesGrid(p);
        fixed (float* px = x, pw = w, py = y, pb = bias)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py, bs = bias.IsEmpty ? 0 : (nint)pb;
            void Image(int i, int threads)
            {
                for (int g = 0; g < p.Groups; g++)
                {
                    float* xg = (float*)xs + ((long)i * p.CIn + g * cig) * p.InPlane;
                    float* yg = (float*)ys + ((long)i * p.COut + g * cog) * plane;
                    var wg = new WeightsA((float*)ws + (long)g * cog * rows, p.KH * p.KW, flippedWeights);
                    var ep = WithBias(map, bs, g * cog);
                    if (pointwise) wg.Multiply(cog, plane, rows, new DenseB(xg, plane, false), yg, plane, threads, ep);
                    else if (grid) GridGemm(wg, xg, yg, p, threads, ep);
                    else ConvGemm(wg, xg, p.CIn * p.InPlane, 1, yg, plane, p, threads, ep);
                }
            }
            // Whole images per thread when there are enough of them: no duplicated packing of W, no sync per GEMM.
            if (p.N >= Parallelism.Threads && p.N > 1) Parallelism.For(p.N, i => Image(i, 1));
            else for (int i = 0; i < p.N; i++) Image(i, Parallelism.Threads);
        }
    }

    /// <summary>False runs every panel straight from the images, for paired A/B measurements of the staged copy. Default true.</summary>
    internal static bool StageImages = true;

    /// <summary>
    /// True packs the flipped-forward adjoint's A straight from the weights (<see cref="FlippedWeights"/>); false flips
    /// them into a copy first, for paired A/B measurements and the tests that compare the two. Default true.
    /// </summary>
    internal static bool FlipInPacking = true;

    /// <summary>
    /// Output rows from this width on read a staged copy: a 16-column sliver then crosses into the next row at most once
    /// per two slivers. Narrower rows make most slivers two or three runs, each a load and a blend, where the direct
    /// panel's same-width path needs two masked loads (paired A/B, 2 threads: N1 C256 14×14 0.97×, C512 7×7 0.95×,
    /// N64 C1 28×28 0.85× staged; N1 C3 224×224 7×7/s2 1.16×, N1 C64 56×56 1.08×, N2 C64 128×128 1.05×).
    /// </summary>
    internal const int StagedMinOutW = 32;

    /// <summary>
    /// y [COut/g, images·OutH·OutW] (row stride ldy) = W_g · col of <paramref name="images"/> images of one group at x
    /// (<paramref name="xImageStride"/> floats apart), with col read from a staged copy of the images
    /// (<see cref="StagedIm2ColPanel"/>) where rows are wide, else straight from them (<see cref="Im2ColPanel"/>).
    /// </summary>
    private static void ConvGemm(WeightsA w, float* x, long xImageStride, int images, float* y, int ldy, Conv2dParams p, int threads, GemmEpilogue ep)
    {
        int rows = p.ColRows, n = images * p.OutPlane;
        if (StageImages && p.OutW >= StagedMinOutW && StagedCopy.TryStage(x, xImageStride, images, p.CInPerGroup, p, out var copy))
            using (copy) w.Multiply(p.COutPerGroup, n, rows, new StagedIm2ColPanel(copy.Images), y, ldy, threads, ep);
        else w.Multiply(p.COutPerGroup, n, rows, new Im2ColPanel(x, p, (int)xImageStride), y, ldy, threads, ep);
    }

    /// <summary>
    /// Whether the weight gradient reads a staged copy: where output rows are narrow, whose runs of positions the direct
    /// transposed panel finishes element by element (OutW 7 or 14: 7 of 7, 6 of 14 positions), and the taps fill at
    /// least four slivers. Paired A/B, 2 threads, staged against direct: N64 C32 14×14 K64 1.29×, N8 C512 7×7 1.11×,
    /// N8 C256 14×14 K512 s2 1.04×, N8 C128 28×28 K256 s2 1.04×; wide rows gained nothing and small copies lost to
    /// the copy's per-row cost (N8 C3 224×224 7×7/s2 0.99×, N2 C32 128×128 0.95×, N64 C1 28×28 0.88×, N8 C64 56×56
    /// 1×1/s2 0.60×).
    /// </summary>
    internal static bool StagesWeightGrad(Conv2dParams p) => p.OutW < StagedMinOutW && p.ColRows >= 4 * Gemm.NR && p.KH * p.KW > 1;

    /// <summary>
    /// dW_g [COut/g, CIn/g·KH·KW] (+)= dY [COut/g, images·OutH·OutW] (row stride ldDy) · colᵀ of <paramref name="images"/>
    /// images of one group, colᵀ from a staged copy (<see cref="StagedIm2ColTransposedPanel"/>) or from the images.
    /// </summary>
    private static void WeightGradGemm(float* dy, int ldDy, float* x, long xImageStride, int images, float* dw, bool accumulate, Conv2dParams p)
    {
        int rows = p.ColRows, n = images * p.OutPlane;
        if (StageImages && StagesWeightGrad(p) && StagedCopy.TryStage(x, xImageStride, images, p.CInPerGroup, p, out var copy))
            using (copy) Gemm.Sgemm(false, p.COutPerGroup, rows, n, dy, ldDy, new StagedIm2ColTransposedPanel(copy.Images), dw, rows, accumulate, Parallelism.Threads);
        else Gemm.Sgemm(false, p.COutPerGroup, rows, n, dy, ldDy, new Im2ColTransposedPanel(x, p, (int)xImageStride), dw, rows, accumulate, Parallelism.Threads);
    }

    /// <summary>The group's rows from <paramref name="start"/> of <paramref name="map"/>, with the bias at <paramref name="bias"/> (0 = none) as the accumulators' start.</summary>
    private static GemmEpilogue WithBias(GemmEpilogue map, nint bias, int start)
    {
        var rows = map.Rows(start);
        return new GemmEpilogue(bias == 0 ? null : (float*)bias + start, rows.Scale, rows.Shift, rows.Relu);
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

    /// <summary>
    /// w [COut, CIn/g, KH, KW] flipped for the adjoint (<see cref="FlipWeight"/>), in an array of exactly w.Length
    /// floats from <see cref="TensorPool"/>: a wide layer's weights (9.4M floats for 1024 → 1024 3×3) would take a
    /// power-of-two ArrayPool bucket almost twice that size. The caller returns it with TensorPool.Return.
    /// </summary>
    internal static float[] RentFlippedWeight(ReadOnlySpan<float> w, Conv2dParams p)
    {
        var f = TensorPool.Rent<float>(w.Length, zero: false);
        FlipWeight(w, f, p);
        return f;
    }

    /// <summary>w [COut, CIn/g, KH, KW] → f [CIn, COut/g, KH, KW] flipped in both spatial axes, per group; output channels in parallel for wide layers.</summary>
    private static void FlipWeight(ReadOnlySpan<float> w, Span<float> f, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, k = p.KH * p.KW;
        fixed (float* pw = w, pf = f)
        {
            nint ws = (nint)pw, fs = (nint)pf;
            void Filters(int gco)
            {
                int g = gco / cog, co = gco - g * cog;
                float* src = (float*)ws + (long)gco * cig * k;
                float* dst = (float*)fs + ((long)g * cig * cog + co) * k;
                for (int ci = 0; ci < cig; ci++, src += k, dst += (long)cog * k)
                    for (int t = 0; t < k; t++) dst[k - 1 - t] = src[t];
            }
            // A 512 → 512 3×3 layer flips 2.4M floats; below 2^16 a wake-up costs more than the copy.
            if (w.Length >= 1 << 16) Parallelism.For(p.COut, Filters);
            else for (int gco = 0; gco < p.COut; gco++) Filters(gco);
        }
    }

    /// <summary>
    /// Whether the adjoint runs as the flipped forward: not for fewer than 8 input channels per group, where that forward
    /// would be a GEMM of fewer rows than one sliver (paired A/B, 2 threads, col2im against the flipped forward:
    /// N2 C3 128×128 → 32 2.6×, N4 C4 64×64 → 64 2.2×, N64 C1 28×28 → 32 2.4× faster; C8 even; C16 and up slower).
    /// </summary>
    internal static bool AdjointByFlippedForward(Conv2dParams p) => p.CInPerGroup >= 8;

    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p)
    {
        if (AdjointByFlippedForward(p) && FlippedForward(p) is { } flipped)
        {
            // On the padded grid every image is its own GEMM, whose A is read in place from a flipped copy but would be
            // packed flipped once per image (N64 C32 14×14 → 64 training layer 1.05× with the copy, paired A/B on Zen 3).
            if (FlipInPacking && !(UsesGrid(flipped) && flipped.N > 1)) Forward(y, w, bias, x, flipped, default, flippedWeights: true);
            else
            {
                var f = RentFlippedWeight(w, p);
                try { Forward(y, f, bias, x, flipped); }
                finally { TensorPool.Return(f); }
            }
            return;
        }
        if (PerImage(p))
        {
            PerImageAdjoint(y, w, x, p);
            if (!bias.IsEmpty) AddBias(x, bias, p.N, p.CIn, p.InPlane);
            return;
        }
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup;
        fixed (float* px = x, pw = w, py = y)
        {
            nint xs = (nint)px, ws = (nint)pw, ys = (nint)py;
            bool spread = Im2Col.Spreads(p);
            if (!spread) x.Clear();
            for (int g = 0; g < p.Groups; g++)
            {
                int gg = g;
                Chunks(p, withCol: true, (n0, nc, col, yt) =>
                {
                    Transfer((float*)ys, (float*)yt, p, gg, n0, nc, toYt: true);
                    int n = nc * p.OutPlane;
                    Gemm.Sgemm(true, false, rows, n, cog, (float*)ws + (long)gg * cog * rows, rows, (float*)yt, n, (float*)col, n, false, Parallelism.Threads);
                    Parallelism.For(nc, i =>
                    {
                        var src = new ReadOnlySpan<float>((float*)col + (long)i * p.OutPlane, (rows - 1) * n + p.OutPlane);
                        var dst = new Span<float>((float*)xs + ((long)(n0 + i) * p.CIn + gg * cig) * p.InPlane, cig * p.InPlane);
                        if (spread) Im2Col.Spread(src, dst, cig, p, n);
                        else Im2Col.FoldAdd(src, dst, cig, p, n);
                    });
                });
            }
        }
        if (!bias.IsEmpty) AddBias(x, bias, p.N, p.CIn, p.InPlane);
    }

    public static void WeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        int rows = p.ColRows, cog = p.COutPerGroup;
        if (p.N == 0) { dw.Clear(); return; }
        if (PerImage(p))
        {
            ImplicitWeightGrad(x, dy, dw, p);
            return;
        }
        int cig = p.CInPerGroup;
        fixed (float* px = x, pdw = dw, pdy = dy)
        {
            nint xs = (nint)px, ws = (nint)pdw, ys = (nint)pdy;
            for (int g = 0; g < p.Groups; g++)
            {
                int gg = g;
                bool first = true;
                Chunks(p, withCol: false, (n0, nc, _, yt) =>
                {
                    Transfer((float*)ys, (float*)yt, p, gg, n0, nc, toYt: true);
                    int n = nc * p.OutPlane;
                    WeightGradGemm((float*)yt, n, (float*)xs + ((long)n0 * p.CIn + gg * cig) * p.InPlane, p.CIn * p.InPlane, nc,
                                   (float*)ws + (long)gg * cog * rows, !first, p);
                    first = false;
                });
            }
        }
    }

    /// <summary>
    /// col = W_gᵀ · y_ig per image and group straight from y (no gather into a batched Yt), then folded into x. When the
    /// kernel tiles the input exactly (kernel == stride, no padding or dilation: the UNet's and FCN's 2×2/s2 up-convs),
    /// every input element receives exactly one col element, so the fold is a scatter with no clearing and no adds. Wide
    /// kernels (the FCN's 64×64/s32) compute colᵀ instead, whose fold adds whole kernel rows as vectors.
    /// </summary>
    private static void PerImageAdjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, Span<float> x, Conv2dParams p)
    {
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup, plane = p.OutPlane;
        bool tiled = Im2Col.Tiles(p), spread = Im2Col.Spreads(p), wideKernel = !tiled && Im2Col.FoldsTransposed(p);
        // colᵀ chunks of about 4 MiB, at least one channel per thread (the fold runs channels in parallel).
        int chunk = Math.Min(cig, Math.Max(Parallelism.Threads, (1 << 20) / Math.Max(plane * p.KH * p.KW, 1)));
        if (!tiled && !spread) x.Clear();
        var col = ArrayPool<float>.Shared.Rent(wideKernel ? plane * chunk * p.KH * p.KW : rows * plane);
        try
        {
            fixed (float* px = x, pw = w, py = y, pc = col)
                for (int i = 0; i < p.N; i++)
                for (int g = 0; g < p.Groups; g++)
                {
                    float* yg = py + ((long)i * p.COut + g * cog) * plane;
                    float* wg = pw + (long)g * cog * rows;
                    var src = new ReadOnlySpan<float>(pc, rows * plane);
                    var dst = new Span<float>(px + ((long)i * p.CIn + g * cig) * p.InPlane, cig * p.InPlane);
                    if (wideKernel)
                    {
                        // colᵀ [P, rows] = yᵀ · W_g, a few channels at a time so each chunk is folded while it is in cache:
                        // a position's KW taps of one kernel row are adjacent in colᵀ and land on adjacent x.
                        int taps = p.KH * p.KW;
                        for (int c0 = 0; c0 < cig; c0 += chunk)
                        {
                            int cc = Math.Min(chunk, cig - c0), cols = cc * taps;
                            Gemm.Sgemm(true, plane, cols, cog, yg, plane, new DenseB(wg + c0 * taps, rows, false), pc, cols, false, Parallelism.Threads);
                            Im2Col.FoldAddTransposed(new ReadOnlySpan<float>(pc, plane * cols), dst.Slice(c0 * p.InPlane, cc * p.InPlane), cc, p);
                        }
                        continue;
                    }
                    Gemm.Sgemm(true, rows, plane, cog, wg, rows, new DenseB(yg, plane, false), pc, plane, false, Parallelism.Threads);
                    if (tiled) Im2Col.Scatter(src, dst, cig, p);
                    else if (spread) Im2Col.Spread(src, dst, cig, p, plane);
                    else Im2Col.FoldAdd(src, dst, cig, p, plane);
                }
        }
        finally { ArrayPool<float>.Shared.Return(col); }
    }

    /// <summary>dW_g = Σ_i dY_ig · col(x_i)ᵀ, colᵀ packed from the image (<see cref="Im2ColTransposedPanel"/>; for a pointwise conv x itself, transposed).</summary>
    private static void ImplicitWeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Conv2dParams p)
    {
        int chunks = WeightGradChunks(p);
        if (chunks <= 1)
        {
            fixed (float* px = x, pdy = dy, pdw = dw) ImageWeightGrads(px, pdy, pdw, 0, p.N, p);
            return;
        }
        // GEMMs too small to split run on one thread each: fixed chunks of images in parallel, each into its own dW,
        // summed in chunk order afterwards, so the bits do not depend on the thread count.
        int size = dw.Length;
        var partial = TensorPool.Rent<float>(chunks * size, zero: false);
        try
        {
            fixed (float* px = x, pdy = dy, ppart = partial)
            {
                nint xs = (nint)px, ys = (nint)pdy, ps = (nint)ppart;
                Parallelism.For(chunks, c => ImageWeightGrads((float*)xs, (float*)ys, (float*)ps + (long)c * size,
                                                              (int)((long)p.N * c / chunks), (int)((long)p.N * (c + 1) / chunks), p));
            }
            partial.AsSpan(0, size).CopyTo(dw);
            for (int c = 1; c < chunks; c++) TensorPrimitives.Add(dw, partial.AsSpan(c * size, size), dw);
        }
        finally { TensorPool.Return(partial); }
    }

    /// <summary>
    /// Chunks of images <see cref="ImplicitWeightGrad"/> runs in parallel: 1 (each image's GEMM threaded as usual) unless
    /// those GEMMs are below <see cref="Gemm.ParallelThreshold"/> and so would run one after another on one core
    /// (SmallSECnn's first layer: 64 images of 32 × 9 × 784), then up to 8 chunks, while their partial dW stay small.
    /// </summary>
    internal static int WeightGradChunks(Conv2dParams p)
    {
        long gemm = (long)p.COutPerGroup * p.ColRows * p.OutPlane, dwFloats = (long)p.COut * p.ColRows;
        int chunks = Math.Min(p.N, 8);
        return ChunkWeightGrads && Parallelism.Threads > 1 && chunks > 1 && gemm < Gemm.ParallelThreshold && chunks * dwFloats <= 1 << 20 ? chunks : 1;
    }

    /// <summary>False keeps such images one after another, for paired A/B measurements. Default true.</summary>
    internal static bool ChunkWeightGrads = true;

    /// <summary>dW [COut, CIn/g·KH·KW] = Σ over images n0 .. n1 of dY_ig · col(x_i)ᵀ, per group, each image's GEMM on the threads it may use.</summary>
    private static void ImageWeightGrads(float* px, float* pdy, float* pdw, int n0, int n1, Conv2dParams p)
    {
        int rows = p.ColRows, cog = p.COutPerGroup, cig = p.CInPerGroup, plane = p.OutPlane;
        bool pointwise = IsPointwise(p);
        for (int i = n0; i < n1; i++)
        for (int g = 0; g < p.Groups; g++)
        {
            float* xg = px + ((long)i * p.CIn + g * cig) * p.InPlane;
            float* dyg = pdy + ((long)i * p.COut + g * cog) * plane;
            float* dwg = pdw + (long)g * cog * rows;
            if (pointwise) Gemm.Sgemm(false, cog, rows, plane, dyg, plane, new DenseB(xg, plane, true), dwg, rows, i > n0, Parallelism.Threads);
            else WeightGradGemm(dyg, plane, xg, p.CIn * p.InPlane, 1, dwg, i > n0, p);
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
