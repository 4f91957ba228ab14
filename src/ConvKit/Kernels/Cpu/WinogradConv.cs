using System.Buffers;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>The geometry Winograd F(m×m, 3×3) applies to: 3×3, stride-1, dilation-1 layers.</summary>
internal static class WinogradConv
{
    public static bool Applies(Conv2dParams p) =>
        p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 && p.DilationH == 1 && p.DilationW == 1;
}

internal partial struct F4x4
{
    /// <summary>False keeps Auto's inference forwards off F(4×4), for paired A/B measurements. Default true.</summary>
    internal static bool InferenceForwards = true;

    /// <summary>
    /// Whether Auto picks F(4×4) over im2col + GEMM. Measured (2-core Zen VM, 2 threads, pad 1, F.Conv2d medians,
    /// ratio = im2col time / Winograd time): large planes win 2–5× (N1 C64 128×128: 4–5×, N8 C64 56×56: 2.5×); down to
    /// 256 output pixels (N·OutH·OutW) layers up to 128×128 channels still win (N1 C64 16×16: 1.2×, N1 C128 16×16: 1.3–1.5×,
    /// N1 C128 20×20: 1.5×), while wider layers need ~512: their im2col GEMM is already efficient and Winograd's are
    /// skinny (N1 C256 16×16: 0.9–1.1×, N2 C256 14×14: 1.1×, N1 C256 14×14: 0.95×, N1 C512 16×16: 0.7×, N1 C1024
    /// 8×8: 0.26×; N1 C256 28×28: 1.5×). Few input channels per group make the GEMMs' k too short for the 4× saving to pay
    /// for the transforms. First layers (C = 3–4) lose 0.65–0.85× (noisy). Paired A/B on Zen 3, 2 threads, inference
    /// forwards, im2col time / F(4×4) time (<c>--ab wino4</c>): N1 C8 112×112 K64 0.65, C12 112×112 0.76, C16 112×112 0.95,
    /// C16 56×56 0.79, N4 C16 56×56 K32 0.93; C24 112×112 K64 1.23, C32 112×112 K32 1.53, C32 56×56 K64 1.11. Hence
    /// ≥ 24 input channels per group (17–23 unmeasured; im2col keeps them). Two guards are reasoned, not measured: tiles at least half full (keeps very
    /// thin planes, mostly tile padding, on im2col) and U at most 2²⁴ floats (64 MiB, i.e. up to ~680×680 channels
    /// per group), so Auto never parks a huge pooled weight workspace.
    /// </summary>
    public static bool Wins(Conv2dParams p)
    {
        if (!InferenceForwards) return false;
        long pairs = (long)p.CInPerGroup * p.COutPerGroup, pixels = (long)p.N * p.OutPlane, minPixels = pairs <= 128 * 128 ? 256 : 512;
        return WinogradConv<F4x4>.Applies(p) && p.CInPerGroup >= 24 && pixels >= minPixels && WinogradConv<F4x4>.HalfFull(p) && 36 * pairs <= 1 << 24;
    }
}

internal partial struct F4x4
{
    /// <summary>
    /// Whether F(4×4) on filters transformed once (<see cref="WinogradFilterCache"/>) beats im2col + GEMM: where
    /// <see cref="Wins"/> holds, and further on planes of at least 16 tiles (one full 16-column GEMM sliver) with ≥ 128
    /// input channels per group. Measured (2 threads, the two alternated call by call, F.Conv2d medians of 50,
    /// im2col time / cached F(4×4) time): N1 C128 14×14 1.26–1.41, N1 C256 14×14 1.18–1.48, N1 C256 16×16 1.33–1.40,
    /// N1 C512 14×14 1.26–1.51, N4 C512 7×7 (16 tiles) 1.37, N8 C256 14×14 1.24; at fewer tiles it loses (N1 C256 10×10,
    /// 9 tiles, 0.71; N2 C512 7×7, 8 tiles, 0.85; N1 C512 7×7 and C256 7×7, 4 tiles, 0.37–0.41) and with 64 channels or
    /// fewer it breaks even (N1 C64 14×14 0.97, C32 28×28 1.09, C16 56×56 0.99). Where Wins holds already, skipping the
    /// transform gained 1.13–1.17 (N1 C64 56×56, N1 C128 28×28).
    /// </summary>
    public static bool WinsWithCachedFilters(Conv2dParams p) =>
        Wins(p) || (WinogradConv<F4x4>.Applies(p) && p.CInPerGroup >= 128 && WinogradConv<F4x4>.Tiles(p) >= 16
                    && WinogradConv<F4x4>.HalfFull(p) && 36L * p.CInPerGroup * p.COutPerGroup <= 1 << 24);
}

internal partial struct F2x2
{
    /// <summary>
    /// Whether Auto picks F(2×2) over im2col + GEMM where the result feeds a gradient (the dispatcher keeps F(4×4) for
    /// inference). Measured (2-core Zen VM shared with other builds, load 2–6, 2 threads, pad 1, F.Conv2d medians of
    /// 7–11 interleaved runs, ratio = im2col time / F(2×2) time, three sessions): N8 C64 56×56 K64 1.13 / 1.80 / 1.14,
    /// N2 C64 128×128 K64 1.67 / 1.78 / 1.53, N64 C64 14×14 K128 1.49 / 1.32 / 1.45, N8 C128 28×28 K128 1.13 / 1.23 /
    /// 1.16, N8 C256 14×14 K256 1.02 / 1.09 / 1.22, N2 C512 16×16 K512 1.14 / 1.06 / 1.12, N2 C256 14×14 K256 1.26; losses
    /// with 32 input channels (N64 C32 28×28 K64 0.93 / 0.93 / 0.98, N8 C32 28×28 K32 0.96; the GEMMs' k is too short for the 2.25× saving to pay for the
    /// transforms) and break-even or losses at 256 output pixels or fewer (N1 C64 16×16 1.07, N1 C128 16×16 1.00,
    /// N1 C256 16×16 1.05, N1 C512 14×14 0.92). Hence N·OutH·OutW ≥ 512, with F(4×4)'s reasoned guards (tiles at least
    /// half full, U at most 2²⁴ floats). The C32 losses are gone with today's transforms and GEMM: paired A/B of the
    /// forward and adjoint from 32 input channels against 64 (<c>--ab f2c32</c>, 2026-12-04, Zen 4, training layers,
    /// forward + data gradient + weight gradient, the last unchanged on im2col), AVX2 2 threads: N64 C32 14×14 K64 1.077,
    /// N64 C32 28×28 K64 1.092, N8 C32 28×28 K32 1.087, N4 C32 56×56 K48 1.084, the SmallSECnn step 1.034; AVX2 1 thread
    /// 1.063 / 1.102 / 1.087 / 1.064; AVX-512 2 threads 1.022 / 1.062 / 1.030 / 1.105, SmallSECnn 1.014. Hence
    /// ≥ <see cref="ForwardChannels"/> = 32 input channels per group (fewer unmeasured).
    /// </summary>
    public static bool Wins(Conv2dParams p) => Eligible(p, ForwardChannels) && WinogradConv<F2x2>.Filled(p, 5, 6);

    /// <summary>The fewest input channels per group for which <see cref="Wins"/> holds (settable for paired measurements).</summary>
    internal static int ForwardChannels = 32;

    /// <summary>False keeps Auto's weight gradients on im2col, for paired A/B measurements. Default true.</summary>
    internal static bool WeightGradients = true;

    /// <summary>
    /// Whether F(2×2)'s weight gradient beats im2col's: the rule <see cref="Wins"/> had before it asked for tiles 5/6
    /// full. Odd planes waste a quarter of their tiles (7×7: 49 of 64 outputs), which the forward and the adjoint pay
    /// for in their transforms (N64 C64 7×7 K128 forward, 2 threads, paired medians: im2col 3.3 ms, F(2×2) 4.0–4.2 ms)
    /// while the weight gradient still wins there (im2col 4.8–6.7 ms, F(2×2) 4.1–4.3 ms; AVX-512, Zen 4). Not on the AVX2
    /// path, where im2col's staged transposed panel wins such planes (Zen 3, 2 threads, paired A/B of im2col against
    /// F(2×2) for the weight gradient alone: N64 C64 7×7 K128 training layer 0.75, N8 C512 7×7 0.97, the SmallSECnn step
    /// 0.93), so there the weight gradient asks for 5/6 full tiles as well.
    /// </summary>
    public static bool WinsWeightGradient(Conv2dParams p) =>
        Eligible(p, 64) && (Gemm.Isa != GemmIsa.Avx2 || WinogradConv<F2x2>.Filled(p, 5, 6));

    /// <summary>
    /// The guards both training rules share: F(2×2) applies, at least <paramref name="minChannels"/> input channels per
    /// group, N·OutH·OutW ≥ 512, tiles at least half full, U at most 2²⁴ floats (and <see cref="WeightGradients"/>).
    /// </summary>
    private static bool Eligible(Conv2dParams p, int minChannels) =>
        WeightGradients && WinogradConv<F2x2>.Applies(p) && p.CInPerGroup >= minChannels && (long)p.N * p.OutPlane >= 512
        && WinogradConv<F2x2>.HalfFull(p) && 16L * p.CInPerGroup * p.COutPerGroup <= 1 << 24;
}

/// <summary>
/// Winograd F(m×m, 3×3) convolution for 3×3, stride-1, dilation-1 layers (A. Lavin and S. Gray, "Fast Algorithms
/// for Convolutional Neural Networks", CVPR 2016), for the variants <see cref="F4x4"/> (points 0, ±1, ±2, ∞: each
/// 4×4 output tile from a 6×6 input tile with 36 multiplies per channel pair instead of 144) and <see cref="F2x2"/>
/// (points 0, ±1, ∞: each 2×2 tile from a 4×4 one with 16 instead of 36). With α = m + 2:
///   weights  U = G g Gᵀ, laid out [α², COut/g, CIn/g] so each of the α² positions ξ is a [K, C] matrix,
///   inputs   V = Bᵀ d B over α×α tiles at stride m (zero outside the image), laid out [α², CIn/g, T],
///   products M_ξ = U_ξ · V_ξ, α² GEMMs [K, C]·[C, T] on the packed <see cref="Gemm"/>,
///   outputs  Y = Aᵀ M A + bias, only the valid part of edge tiles written.
/// T runs over the tiles of all images (so small planes still give wide GEMMs) in blocks of ≥ 48 tiles sized to keep
/// V and M near cache. Tiles are taken in groups of up to 8 along a tile row, so a group's patches are transposes
/// (F4×4: 8×4; F2×2: even/odd splits) of contiguous input rows and its outputs of contiguous output rows. Each phase
/// is one parallel loop (transforms over channels, the α² GEMMs one per item, single-threaded inside), or, with
/// enough blocks, each thread runs whole blocks and the phases inside run inline; either way nothing nests. The
/// transforms run on 8 tiles at a time (<see cref="Lanes8"/>, AVX) or 4 (<see cref="Lanes4"/>, portable, also taken
/// under <see cref="Gemm.ForceScalar"/>).
/// When F(4×4) wins: 4× fewer GEMM multiplies than im2col (36 instead of 144 per 4×4 tile and channel pair, minus edge
/// waste), at the cost of transforms linear in C·T and K·T and a weight transform linear in K·C (U is 4× the weights);
/// so it needs ≥ 24 input channels per group and N·OutH·OutW ≥ 256–512 (<see cref="F4x4.Wins"/> gives the
/// measurements). F(2×2) saves only 2.25× and its transforms cost more per output (<see cref="F2x2.Wins"/>).
/// Float32 error is that of a sum over the whole α×α patch with coefficients up to ~10² for F(4×4) (the points ±2
/// scaled by 8) and up to 4 for F(2×2) (WinogradConvTests derives and checks the bounds); in practice ~1 ε of that magnitude.
/// </summary>
internal static unsafe partial class WinogradConv<TTile> where TTile : IWinogradTile
{
    private static int Xi => TTile.Alpha * TTile.Alpha;

    /// <summary>
    /// Floats of V + M per tile block (1 MiB, about one core's L2), subject to the 64-tile minimum. The transforms
    /// touch 36 strided rows of V or M per group, so they slow down once those leave L2: on N64 C32 28×28 K64
    /// (1 thread) the output transform took 10.8 ms with 8 MiB blocks, 9.5 ms with 1 MiB, with the GEMMs unchanged.
    /// </summary>
    private const long BlockBudget = 1L << 18;

    /// <summary>Floats of transformed filters U per chunk of output channels (16 MB, one ArrayPool bucket).</summary>
    private const long UBudget = 1L << 22;

    public static bool Applies(Conv2dParams p) => WinogradConv.Applies(p);

    /// <summary>Whether the m×m tiles are at least half full of outputs (very thin planes are mostly tile padding).</summary>
    public static bool HalfFull(Conv2dParams p) => Filled(p, 1, 2);

    /// <summary>Whether at least num/den of the m×m tiles' outputs lie inside the output planes.</summary>
    public static bool Filled(Conv2dParams p, int num, int den) => (long)p.N * p.OutPlane * den >= (long)num * TTile.M * TTile.M * Tiles(p);

    /// <summary>
    /// x [N, CIn, H, W] = convᵀ(y [N, COut, OutH, OutW]) + bias [CIn]: for stride 1 this is a forward 3×3 convolution
    /// of y with the flipped, channel-swapped weights and padding 2 − pad. That forward runs here when its padding is
    /// non-negative and it is <paramref name="forced"/> or wins by itself (a C64 → K3 head wins forward, but its
    /// adjoint is a C3 → K64 convolution, where Winograd loses); otherwise im2col's adjoint.
    /// </summary>
    public static void Adjoint(ReadOnlySpan<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> x, Conv2dParams p, bool forced)
    {
        if (Im2ColGemmConv.FlippedForward(p) is not { } flipped || !(forced ? Applies(flipped) : TTile.Wins(flipped)))
        {
            Im2ColGemmConv.Adjoint(y, w, bias, x, p);
            return;
        }
        // The filter transform reads w flipped and channel-swapped in place: no flipped copy of a wide layer's weights.
        Forward(y, w, bias, x, flipped, int.MaxValue, UBudget, swappedWeights: true);
    }

    /// <summary>Output tiles per group: N · ⌈OutH/m⌉ · ⌈OutW/m⌉.</summary>
    public static long Tiles(Conv2dParams p) => (long)p.N * TileCount(p.OutH) * TileCount(p.OutW);

    private static int TileCount(int outSize) => (outSize + TTile.M - 1) / TTile.M;

    /// <summary>y [N, COut, OutH, OutW] = conv(x [N, CIn, H, W], w [COut, CIn/g, 3, 3]) + bias [COut] (or none).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p) =>
        Forward(x, w, bias, y, p, int.MaxValue);

    /// <summary>
    /// The forward followed by a per-channel <paramref name="map"/> (eval batch norm, ReLU), applied to each output row
    /// as the output transform writes it, while it is in L1, with the same arithmetic as a separate pass.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, ConvEpilogue map) =>
        Forward(x, w, bias, y, p, int.MaxValue, map: map);

    /// <summary><see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Conv2dParams)"/> with at most <paramref name="maxBlockTiles"/> tiles per block, so tests can cross block edges on small layers.</summary>
    /// and at most <paramref name="uBudget"/> floats of transformed filters per chunk of output channels (tests cross chunk edges with a small one).
    /// With <paramref name="swappedWeights"/>, w is the adjoint's [CIn, COut/g, 3, 3] of the conv being run, read flipped.
    /// With <paramref name="filters"/> (from <see cref="TransformFilters"/> on the same w and geometry), the filter transform is skipped.
    internal static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, int maxBlockTiles,
                                 long uBudget = UBudget, bool swappedWeights = false, ConvEpilogue map = default, TransformedFilters? filters = null)
    {
        if (y.IsEmpty) return;
        if (filters is not null && (filters.Alpha != TTile.Alpha || swappedWeights))
            throw new InvalidOperationException("internal: transformed filters of another variant");
        if (Lanes == 8) Run<Lanes8>(x, w, bias, y, p, maxBlockTiles, uBudget, swappedWeights, map, filters);
        else Run<Lanes4>(x, w, bias, y, p, maxBlockTiles, uBudget, swappedWeights, map, filters);
    }

    /// <summary>The transform's lane count on this machine: 8 (AVX), or 4 (portable, also under <see cref="Gemm.ForceScalar"/>).</summary>
    private static int Lanes => Avx.IsSupported && !Gemm.ForceScalar ? 8 : 4;

    /// <summary>
    /// U = G w Gᵀ for every group and output channel of w [COut, CIn/g, 3, 3], each ξ matrix [COut/g, CIn/g] packed
    /// whole into the GEMM's A slivers (<see cref="Gemm.PackWholeA"/>) for <paramref name="isa"/>.
    /// </summary>
    internal static TransformedFilters TransformFilters(ReadOnlySpan<float> w, Conv2dParams p, GemmIsa isa) =>
        Lanes == 8 ? TransformFilters<Lanes8>(w, p, isa) : TransformFilters<Lanes4>(w, p, isa);

    /// <summary>Floats of <see cref="TransformFilters"/>' result for a geometry and <paramref name="isa"/>.</summary>
    internal static long TransformedFloats(Conv2dParams p, GemmIsa isa) => p.Groups * Xi * Gemm.PackedAFloats(p.COutPerGroup, p.CInPerGroup, isa);

    private static TransformedFilters TransformFilters<TV>(ReadOnlySpan<float> w, Conv2dParams p, GemmIsa isa) where TV : unmanaged, ILanes<TV>
    {
        long stride = Gemm.PackedAFloats(p.COutPerGroup, p.CInPerGroup, isa);
        var packed = GC.AllocateUninitializedArray<float>((int)TransformedFloats(p, isa));
        var plan = new Plan { P = p, Cig = p.CInPerGroup, GroupCog = p.COutPerGroup, Cog = p.COutPerGroup, Ldu = Gemm.RoundUp(p.CInPerGroup, TV.Count) };
        plan.UXi = XiStride((long)plan.Cog * plan.Ldu);
        var u = ArrayPool<float>.Shared.Rent((int)(Xi * plan.UXi));
        try
        {
            fixed (float* pw = w, pu = u, pp = packed)
            {
                plan.Wt = pw;
                plan.U = pu;
                nint dst = (nint)pp;
                for (int g = 0; g < p.Groups; g++)
                {
                    TransformWeights<TV>(plan, g);
                    int gg = g;
                    Parallelism.For(Xi, xi => Gemm.PackWholeA(plan.U + xi * plan.UXi, plan.Ldu, plan.Cog, plan.Cig, isa,
                                                              (float*)dst + (gg * Xi + xi) * stride));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(u);
        }
        return new TransformedFilters(packed, TTile.Alpha, isa, stride);
    }

    /// <summary>The geometry of one call and its pinned operands, shared by the phases.</summary>
    private sealed class Plan
    {
        public required Conv2dParams P;
        /// <summary>Cog: output channels of the chunk being run; K0: its first, within the group of GroupCog.</summary>
        public int Cig, Cog, GroupCog, K0, TilesW, TilesPerImage, Tb, Ld, Ldu;
        /// <summary>Wt holds [Cig, GroupCog, 3, 3] per group, to be read flipped (the adjoint's filters), not [GroupCog, Cig, 3, 3].</summary>
        public bool SwappedWeights;
        /// <summary>Floats between the ξ matrices of U, V and M (see <see cref="XiStride"/>).</summary>
        public long UXi, VXi, MXi;
        public float* X, Wt, Bias, Y, U;
        /// <summary>The per-output-channel map applied as output rows are written (none by default).</summary>
        public GemmEpilogue Map;
        /// <summary>When set, U is the group's part of these packed filters (ξ matrices XiStride apart) instead of a row-major transform.</summary>
        public TransformedFilters? Filters;
    }

    /// <summary>
    /// Walks a block's tiles as runs along one tile row (tiles [Tw0, Tw1) of row Th of image N, whose first tile is
    /// column Col of V and M). Within a run, groups of Count tiles have their α×α patches side by side in the input
    /// rows and their m×m outputs side by side in the output rows.
    /// </summary>
    private struct Runs(Plan pl, int t0, int count)
    {
        private int _next;
        public int N, Th, Tw0, Tw1, Col;

        public bool Next()
        {
            if (_next >= count) return false;
            int t = t0 + _next;
            N = t / pl.TilesPerImage;
            int r = t - N * pl.TilesPerImage;
            Th = r / pl.TilesW;
            Tw0 = r - Th * pl.TilesW;
            Tw1 = Math.Min(pl.TilesW, Tw0 + count - _next);
            Col = _next;
            _next += Tw1 - Tw0;
            return true;
        }
    }

    private static void Run<TV>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dParams p, int maxBlockTiles,
                                long uBudget, bool swappedWeights, ConvEpilogue map, TransformedFilters? filters) where TV : unmanaged, ILanes<TV>
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, tilesW = TileCount(p.OutW), threads = Parallelism.Threads;
        int tiles = (int)Tiles(p);
        int ldu = Gemm.RoundUp(cig, TV.Count);
        // Output channels run in chunks whose transformed filters U fit the budget: U of a wide layer (16 · 512 · 1024
        // floats for F(2×2) on a 1024 → 512 conv) would otherwise be the largest buffer of a training step. Each chunk
        // transforms the inputs again, which costs little where U is large: such layers have few tiles. Given
        // transformed filters hold all of a group's output channels in one chunk.
        int kc = filters is null ? ChannelChunk(cog, ldu, uBudget) : cog;
        // Blocks of at most the budget (at least 64 tiles, so the GEMMs stay efficient), split further into ≥ 4 per
        // thread where that leaves ≥ 48 tiles each, so whole blocks can be shared out evenly.
        int budgetTiles = (int)Math.Clamp(BlockBudget / (Xi * (long)(cig + kc)), 64, 1 << 16);
        int blocks = Math.Max((tiles + budgetTiles - 1) / budgetTiles, Math.Min(4 * threads, tiles / 48));
        int tb = Math.Min((tiles + blocks - 1) / blocks, Math.Max(1, maxBlockTiles));
        blocks = (tiles + tb - 1) / tb;
        var plan = new Plan
        {
            // Rows of V and M have room for one more lane group (a short group at a row end is stored whole) and
            // are a whole number of lane vectors, so the transforms step through them in TV units.
            P = p, Cig = cig, GroupCog = cog, SwappedWeights = swappedWeights, TilesW = tilesW, TilesPerImage = tilesW * TileCount(p.OutH), Tb = tb,
            Ld = Gemm.RoundUp(tb, TV.Count) + TV.Count, Ldu = ldu,
        };
        (plan.UXi, plan.VXi, plan.MXi) = (XiStride((long)kc * plan.Ldu), XiStride((long)cig * plan.Ld), XiStride((long)kc * plan.Ld));
        var u = filters?.U ?? ArrayPool<float>.Shared.Rent((int)(Xi * plan.UXi));
        plan.Filters = filters;
        try
        {
            fixed (float* px = x, pw = w, pb = bias, py = y, pu = u, sc = map.Scale, sh = map.Shift)
            {
                plan.X = px; plan.Wt = pw; plan.Bias = pb; plan.Y = py; plan.U = pu;
                plan.Map = new GemmEpilogue(null, sc, sh, map.Relu);
                for (int g = 0; g < p.Groups; g++)
                for (int k0 = 0; k0 < cog; k0 += kc)
                {
                    plan.K0 = k0;
                    plan.Cog = Math.Min(kc, cog - k0);
                    if (filters is null) TransformWeights<TV>(plan, g);
                    else plan.U = pu + g * Xi * filters.XiStride;
                    // With enough blocks each thread runs whole blocks (its phases then run inline and V, M stay in its
                    // cache); otherwise the blocks run in turn and each phase is parallel.
                    int gg = g;
                    if (blocks >= 2 * threads) Parallelism.For(blocks, b => RunBlock<TV>(plan, gg, b));
                    else for (int b = 0; b < blocks; b++) RunBlock<TV>(plan, g, b);
                }
            }
        }
        finally
        {
            if (filters is null) ArrayPool<float>.Shared.Return(u);
        }
    }

    /// <summary>Output channels per chunk: the fewest chunks whose α² [chunk, ldu] matrices fit <paramref name="uBudget"/> floats.</summary>
    private static int ChannelChunk(int cog, int ldu, long uBudget)
    {
        int chunks = 1;
        while (chunks < cog && Xi * XiStride((long)ChunkSize(cog, chunks) * ldu) > uBudget) chunks++;
        return ChunkSize(cog, chunks);
    }

    /// <summary>Output channels per chunk when <paramref name="cog"/> is cut into <paramref name="chunks"/>: even, in whole register rows.</summary>
    private static int ChunkSize(int cog, int chunks) => chunks == 1 ? cog : Math.Min(cog, ((cog + chunks - 1) / chunks + 7) / 8 * 8);

    /// <summary>
    /// A distance between the α² ξ matrices of at least <paramref name="floats"/> that is one cache line more than a
    /// multiple of 4 KiB. Each transform group touches the same offset in all α² matrices; at a multiple of 4 KiB (or
    /// of 2 KiB, ...) those lines share one or two L1 sets and evict each other. Interleaved A/B on the loaded 2-core
    /// VM: the N1 C256 14×14 K256 weight transform (1 thread) 2.5–2.7 ms without the padding, 1.8–2.3 ms with it;
    /// whole N2 C64 128×128 K64 calls (2 threads) 20.6–21.2 ms without, 9.4–14.6 ms with.
    /// </summary>
    private static long XiStride(long floats) => (floats + 1023) / 1024 * 1024 + 16;

    /// <summary>Tiles [b·Tb, (b + 1)·Tb) of group g: input transform, the α² GEMMs and the output transform, with pooled V and M.</summary>
    private static void RunBlock<TV>(Plan pl, int g, int b) where TV : unmanaged, ILanes<TV>
    {
        int t0 = b * pl.Tb, count = Math.Min(pl.Tb, (int)Tiles(pl.P) - t0);
        var pool = ArrayPool<float>.Shared;
        float[] v = pool.Rent((int)(Xi * pl.VXi)), m = pool.Rent((int)(Xi * pl.MXi));
        try
        {
            fixed (float* pv = v, pm = m)
            {
                TransformInputs<TV>(pl, g, t0, count, pv);
                Multiply(pl, count, pv, pm);
                TransformOutputs<TV>(pl, g, t0, count, pm);
            }
        }
        finally
        {
            pool.Return(v);
            pool.Return(m);
        }
    }

    /// <summary>U[ξ, k, c] = (G w[k, c] Gᵀ)[ξ] for the group's filters, lanes over c; rows padded to Ldu so every store is whole.</summary>
    private static void TransformWeights<TV>(Plan pl, int g) where TV : unmanaged, ILanes<TV>
    {
        int lanes = TV.Count;
        Parallelism.For(pl.Cog, k =>
        {
            TV* src = stackalloc TV[9];
            TV* tmp = stackalloc TV[3 * TTile.Alpha];
            float* sf = (float*)src;
            int kk = pl.K0 + k;
            // Filter (kk, c) tap t: w[kk, c, t], or for the adjoint w[c, kk, 8 − t].
            bool swapped = pl.SwappedWeights;
            float* filters = swapped ? pl.Wt + ((long)g * pl.Cig * pl.GroupCog + kk) * 9 : pl.Wt + (long)(g * pl.GroupCog + kk) * pl.Cig * 9;
            long cStride = swapped ? 9L * pl.GroupCog : 9;
            for (int c0 = 0; c0 < pl.Cig; c0 += lanes)
            {
                int valid = Math.Min(lanes, pl.Cig - c0);
                if (valid == 8 && lanes == 8 && Avx.IsSupported) StageEightFilters(filters + c0 * cStride, cStride, swapped, sf);
                else
                {
                    if (valid < lanes) new Span<float>(sf, 9 * lanes).Clear();
                    for (int l = 0; l < valid; l++)
                    for (int tap = 0; tap < 9; tap++)
                        sf[tap * lanes + l] = filters[(c0 + l) * cStride + (swapped ? 8 - tap : tap)];
                }
                TTile.Filter(src, tmp, (TV*)(pl.U + (long)k * pl.Ldu + c0), (nint)(pl.UXi / lanes));
            }
        });
    }

    /// <summary>
    /// dst[tap·8 + l] = tap of the 3×3 filter at f + l·stride (taps stored 8 − tap when swapped), for 8 filters: an 8×8
    /// register transpose of their first eight stored taps and eight loads of the ninth, instead of 72 scalar loads
    /// (the weight transform of the UNet step's wide layers was 6.6 % of its samples).
    /// </summary>
    private static void StageEightFilters(float* f, long stride, bool swapped, float* dst)
    {
        Gemm.StoreTransposed(Avx.LoadVector256(f), Avx.LoadVector256(f + stride), Avx.LoadVector256(f + 2 * stride), Avx.LoadVector256(f + 3 * stride),
                             Avx.LoadVector256(f + 4 * stride), Avx.LoadVector256(f + 5 * stride), Avx.LoadVector256(f + 6 * stride),
                             Avx.LoadVector256(f + 7 * stride), dst, 8);
        for (int l = 0; l < 8; l++) dst[64 + l] = f[l * stride + 8];
        if (!swapped) return;
        // Stored position q holds tap 8 − q: reverse the nine tap vectors.
        for (int q = 0; q < 4; q++)
        {
            var a = Avx.LoadVector256(dst + q * 8);
            Avx.Store(dst + q * 8, Avx.LoadVector256(dst + (8 - q) * 8));
            Avx.Store(dst + (8 - q) * 8, a);
        }
    }

    /// <summary>
    /// V[ξ, c, t − t0] = (Bᵀ d B)[ξ] for the α×α input patch d of tile t, lanes over the tiles of a group. The α input
    /// rows of a run are first copied zero-padded into a row buffer, so every group loads whole vectors. One item per
    /// channel walks its groups in column order, so the tail of a short group's whole-vector store is overwritten by
    /// the next group (or lands in the spare columns at the end of the row).
    /// </summary>
    private static void TransformInputs<TV>(Plan pl, int g, int t0, int count, float* v) where TV : unmanaged, ILanes<TV>
    {
        var p = pl.P;
        int lanes = TV.Count, m = TTile.M, alpha = TTile.Alpha, rowLen = m * pl.TilesW + m * lanes + alpha;
        nint vs = (nint)v;
        Parallelism.For(pl.Cig, c =>
        {
            TV* src = stackalloc TV[Xi];
            TV* tmp = stackalloc TV[Xi];
            var rowArray = ArrayPool<float>.Shared.Rent(alpha * rowLen);
            fixed (float* rows = rowArray)
            {
                var runs = new Runs(pl, t0, count);
                while (runs.Next())
                {
                    float* plane = pl.X + ((long)runs.N * p.CIn + g * pl.Cig + c) * p.InPlane;
                    for (int i = 0; i < alpha; i++) PadRow(plane, p, runs.Th * m - p.PadTop + i, new Span<float>(rows + i * rowLen, rowLen));
                    for (int tw = runs.Tw0; tw < runs.Tw1; tw += lanes)
                    {
                        for (int i = 0; i < alpha; i++) TTile.LoadPatchRow(rows + i * rowLen + tw * m, src + i * alpha);
                        TTile.Input(src, tmp, (TV*)((float*)vs + (long)c * pl.Ld + runs.Col + tw - runs.Tw0), (nint)(pl.VXi / lanes));
                    }
                }
            }
            ArrayPool<float>.Shared.Return(rowArray);
        });
    }

    /// <summary>Input row <paramref name="iy"/> of an [H, W] plane, shifted by PadLeft and zero outside the plane: row[q] = x[iy, q − PadLeft].</summary>
    private static void PadRow(float* plane, Conv2dParams p, int iy, Span<float> row)
    {
        int lo = Math.Min(p.PadLeft, row.Length), len = (uint)iy < (uint)p.H ? Math.Clamp(row.Length - lo, 0, p.W) : 0;
        row.Slice(0, lo).Clear();
        new ReadOnlySpan<float>(plane + (long)iy * p.W, len).CopyTo(row.Slice(lo));
        row.Slice(lo + len).Clear();
    }

    /// <summary>M_ξ [K, count] = U_ξ [K, C] · V_ξ [C, count], one GEMM per parallel item.</summary>
    private static void Multiply(Plan pl, int count, float* v, float* m)
    {
        nint vs = (nint)v, ms = (nint)m;
        if (pl.Filters is { } f)
            Parallelism.For(Xi, xi => Gemm.Sgemm(pl.U + xi * f.XiStride, f.Isa, pl.Cog, count, pl.Cig, new DenseB((float*)vs + xi * pl.VXi, pl.Ld, false),
                                                 (float*)ms + xi * pl.MXi, pl.Ld, false, Parallelism.Threads));
        else
            Parallelism.For(Xi, xi => Gemm.Sgemm(false, false, pl.Cog, count, pl.Cig,
                pl.U + xi * pl.UXi, pl.Ldu, (float*)vs + xi * pl.VXi, pl.Ld, (float*)ms + xi * pl.MXi, pl.Ld, false, Parallelism.Threads));
    }

    /// <summary>
    /// y tiles = Aᵀ M A + bias for output channel k of the group, lanes over the tiles of a group. A run's m output
    /// rows are assembled in a row buffer with whole-vector stores, then their valid part is copied out.
    /// </summary>
    private static void TransformOutputs<TV>(Plan pl, int g, int t0, int count, float* m) where TV : unmanaged, ILanes<TV>
    {
        var p = pl.P;
        int lanes = TV.Count, mt = TTile.M, rowLen = mt * pl.TilesW + mt * lanes;
        nint ms = (nint)m;
        Parallelism.For(pl.Cog, k =>
        {
            int co = g * pl.GroupCog + pl.K0 + k;
            var bias = TV.Broadcast(pl.Bias == null ? 0f : pl.Bias[co]);
            TV* tmp = stackalloc TV[mt * TTile.Alpha];
            TV* dst = stackalloc TV[mt * mt];
            var rowArray = ArrayPool<float>.Shared.Rent(mt * rowLen);
            fixed (float* rows = rowArray)
            {
                var runs = new Runs(pl, t0, count);
                while (runs.Next())
                {
                    for (int tw = runs.Tw0; tw < runs.Tw1; tw += lanes)
                    {
                        float* mk = (float*)ms + (long)k * pl.Ld + runs.Col + tw - runs.Tw0;
                        TTile.Output((TV*)mk, (nint)(pl.MXi / lanes), tmp, dst);
                        for (int e = 0; e < mt * mt; e++) dst[e] = dst[e] + bias;
                        for (int r = 0; r < mt; r++) TTile.StoreTileRow(dst + r * mt, rows + r * rowLen + tw * mt);
                    }
                    int oy = runs.Th * mt, x0 = runs.Tw0 * mt, width = Math.Min(runs.Tw1 * mt, p.OutW) - x0;
                    float* outp = pl.Y + ((long)runs.N * p.COut + co) * p.OutPlane + (long)oy * p.OutW + x0;
                    var map = pl.Map.Rows(co);
                    for (int r = 0; r < Math.Min(mt, p.OutH - oy); r++)
                    {
                        new ReadOnlySpan<float>(rows + r * rowLen + x0, width).CopyTo(new Span<float>(outp + (long)r * p.OutW, width));
                        if (map.HasMap) map.Map(outp + (long)r * p.OutW, p.OutW, 1, width);
                    }
                }
            }
            ArrayPool<float>.Shared.Return(rowArray);
        });
    }
}
