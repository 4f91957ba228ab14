using ConvKit.Kernels;
using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against the double-precision reference, with a bound from first-order error
/// analysis, written for F(4×4) below; F(2×2) is the same with 4×4 patches and its own roundings (see <see cref="Variant.F2x2"/>).
/// Winograd computes y[r, c] = Σ_ch Σ_ξ (Aᵀ)_rξ (G g Gᵀ)_ξ (Bᵀ d B)_ξ (A)_ξc; expanded, that is a sum of terms
/// ±A·A·G·G·B·B·g·d over the whole 6×6 input patch d, most of which cancel exactly. Each float operation rounds by
/// at most ε = 2⁻²⁴, and every expanded term passes through at most n roundings (≈ 6 in the filter transform incl.
/// the inexact 1/6, 1/24 constants, 6 in the input transform, 1 product, CIn/g − 1 GEMM additions, 8 in the output
/// transform, 1 bias add), so |y − y_exact| ≤ γ_n · m with n = 25 + CIn/g and
///   m[r, c] = |b| + Σ_ch Σ_kh,kw,dh,dw amp[r, kh, dh] · amp[c, kw, dw] · |g[kh, kw]| · |d[dh, dw]|,
///   amp[i, k, j] = Σ_ξ |Aᵀ_iξ| |G_ξk| |Bᵀ_ξj|   (1-D; the 2-D magnitudes factorise).
/// amp is at least 1 on the taps direct convolution uses and reaches 10.7 for the last output of a tile (the
/// points ±2 scaled by 8), so m is up to ~10² × the direct Σ|x||w|; relative to that direct L1 norm the error is
/// not bounded at all near padded edges (the cancelling neighbours of a tile carry it), which is why the bound
/// uses m (in those units the worst case was 8·10³ ε·Σ|x||w| over 1500 random geometries). Measured: the worst
/// |y − y_exact| / (ε·m) was 1.78 over 1500 random forward geometries and 1.60 over 600 adjoint ones (the tests run
/// fewer), against the worst-case bound 25 + CIn/g; a wrong coefficient or a lost tap gives errors of order m, i.e. ~10⁷ in these units.
/// </summary>
// Gemm.ForceScalar is process-wide; tests of one class run sequentially and the portable test restores it in a
// finally, so a concurrently running class at worst takes the (equally correct) portable GEMM for a while.
[Collection(ForceScalarCollection.Name)]
public class WinogradConvTests(ITestOutputHelper output)
{
    private const double Eps = 1.0 / (1 << 24);

    /// <summary>
    /// One Winograd variant as the tests see it: its matrices (for the magnitude m), the roundings an expanded term
    /// passes through besides the CIn/g − 1 GEMM additions, the algorithm that forces it and its forward.
    /// </summary>
    internal sealed class Variant
    {
        public required string Name;
        public required double[,] At, G, Bt;
        public required int Roundings;
        public required ConvAlgorithm Algorithm;
        /// <summary>(x, w, bias, y, p, max tiles per block, transformed-filter budget per output-channel chunk).</summary>
        public required Action<float[], float[], float[], float[], Conv2dParams, int, long> Forward;
        /// <summary>(x, dy, dw, p, max tiles per block, accumulated-product budget per output-channel chunk).</summary>
        public required Action<float[], float[], float[], Conv2dParams, int, long> WeightGrad;
        public int M => At.GetLength(0);
        public int Alpha => Bt.GetLength(0);

        /// <summary>amp[i, k, j] = Σ_ξ |Aᵀ_iξ| |G_ξk| |Bᵀ_ξj| (see the class summary).</summary>
        public double[,,] Amp => _amp ??= BuildAmp();
        private double[,,]? _amp;

        private double[,,] BuildAmp()
        {
            var a = new double[M, 3, Alpha];
            for (int i = 0; i < M; i++)
            for (int k = 0; k < 3; k++)
            for (int j = 0; j < Alpha; j++)
            for (int xi = 0; xi < Alpha; xi++)
                a[i, k, j] += Math.Abs(At[i, xi]) * Math.Abs(G[xi, k]) * Math.Abs(Bt[xi, j]);
            return a;
        }

        /// <summary>Roundings an expanded term passes through in an output summing <paramref name="channels"/> channels.</summary>
        public double Bound(int channels) => Roundings + channels;

        public override string ToString() => Name;

        public static readonly Variant F4x4 = new()
        {
            Name = "F(4x4,3x3)", Algorithm = ConvAlgorithm.Winograd, Roundings = 25,
            Forward = (x, w, b, y, p, block, budget) => WinogradConv<ConvKit.Kernels.Cpu.F4x4>.Forward(x, w, b, y, p, block, budget),
            WeightGrad = (x, dy, dw, p, block, budget) => WinogradConv<ConvKit.Kernels.Cpu.F4x4>.WeightGrad(x, dy, dw, p, block, budget),
            At = new double[,] { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 1 } },
            G = new[,]
            {
                { 1 / 4.0, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0 },
                { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0 }, { 0, 0, 1 },
            },
            Bt = new double[,]
            {
                { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
                { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
            },
        };

        /// <summary>
        /// F(2×2, 3×3): the same analysis over 4×4 patches. Every coefficient is 0, ±1 or ±½ (exact), so the roundings
        /// are the additions: 2 per pass of the filter transform ((g0 + g2) ± g1) and 4 in its two passes, 1 and 2 in
        /// the input transform, 1 product, CIn/g − 1 GEMM additions, 2 and 4 in the output transform (m0 + m1 + m2,
        /// m1 − m2 − m3), 1 bias add: n = 11 + CIn/g. amp is at most 2 (m ≤ 4 × the direct Σ|x||w| per 1-D factor pair).
        /// </summary>
        public static readonly Variant F2x2 = new()
        {
            Name = "F(2x2,3x3)", Algorithm = ConvAlgorithm.Winograd2, Roundings = 11,
            Forward = (x, w, b, y, p, block, budget) => WinogradConv<ConvKit.Kernels.Cpu.F2x2>.Forward(x, w, b, y, p, block, budget),
            WeightGrad = (x, dy, dw, p, block, budget) => WinogradConv<ConvKit.Kernels.Cpu.F2x2>.WeightGrad(x, dy, dw, p, block, budget),
            At = new double[,] { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } },
            G = new[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } },
            Bt = new double[,] { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } },
        };

        public static Variant Named(string name) => name == "F4x4" ? F4x4 : name == "F2x2" ? F2x2 : throw new ArgumentException(name);
    }

    /// <summary>
    /// For every m×m output tile (oy, ox) of every image n and input channel ci of group g:
    /// s[r, kh, c, kw] = Σ_dh,dw amp[r, kh, dh] · amp[c, kw, dw] · |d[dh, dw]| over the tile's α×α input patch d, the
    /// factor both magnitudes share (see the class summary).
    /// </summary>
    private static void ForEachPatch(Variant v, float[] x, Conv2dParams p, Action<int, int, int, int, int, double[,,,]> use)
    {
        int cig = p.CInPerGroup, tm = v.M, alpha = v.Alpha;
        var amp = v.Amp;
        var d = new double[alpha, alpha];
        var s = new double[tm, 3, tm, 3];
        for (int n = 0; n < p.N; n++)
        for (int g = 0; g < p.Groups; g++)
        for (int oy = 0; oy < p.OutH; oy += tm)
        for (int ox = 0; ox < p.OutW; ox += tm)
        for (int ci = 0; ci < cig; ci++)
        {
            int plane = (n * p.CIn + g * cig + ci) * p.InPlane;
            for (int dh = 0; dh < alpha; dh++)
            for (int dw = 0; dw < alpha; dw++)
            {
                int ih = oy - p.PadTop + dh, iw = ox - p.PadLeft + dw;
                d[dh, dw] = ih >= 0 && ih < p.H && iw >= 0 && iw < p.W ? Math.Abs(x[plane + ih * p.W + iw]) : 0;
            }
            for (int r = 0; r < tm; r++) for (int kh = 0; kh < 3; kh++)
            for (int c = 0; c < tm; c++) for (int kw = 0; kw < 3; kw++)
            {
                double sum = 0;
                for (int dh = 0; dh < alpha; dh++)
                for (int dw = 0; dw < alpha; dw++)
                    sum += amp[r, kh, dh] * amp[c, kw, dw] * d[dh, dw];
                s[r, kh, c, kw] = sum;
            }
            use(n, g, oy, ox, ci, s);
        }
    }

    /// <summary>The error-analysis magnitude m [N, COut, OutH, OutW] of a Winograd forward (see the class summary).</summary>
    private static double[] WinogradMagnitude(Variant v, float[] x, float[] w, float[] b, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, tm = v.M;
        var m = new double[p.N * p.COut * p.OutPlane];
        ForEachPatch(v, x, p, (n, g, oy, ox, ci, s) =>
        {
            for (int co = g * cog; co < (g + 1) * cog; co++)
            for (int r = 0; r < Math.Min(tm, p.OutH - oy); r++)
            for (int c = 0; c < Math.Min(tm, p.OutW - ox); c++)
            {
                double sum = 0;
                for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++)
                    sum += Math.Abs(w[((co * cig + ci) * 3 + kh) * 3 + kw]) * s[r, kh, c, kw];
                m[((n * p.COut + co) * p.OutH + oy + r) * p.OutW + ox + c] += sum;
            }
        });
        if (b.Length > 0)
            for (int i = 0; i < m.Length; i++) m[i] += Math.Abs(b[i / p.OutPlane % p.COut]);
        return m;
    }

    /// <summary>
    /// The magnitude m [COut, CIn/g, 3, 3] of a Winograd weight gradient: the same expansion as the forward's with the
    /// roles of g and dy swapped (dw = Gᵀ [(A dy Aᵀ) ⊙ (Bᵀ d B)] G summed over tiles, whose 1-D factors are the forward's
    /// amp[r, k, j] with r the output-gradient position), summed over every tile of every image.
    /// </summary>
    private static double[] WeightGradMagnitude(Variant v, float[] x, float[] dy, Conv2dParams p)
    {
        int cig = p.CInPerGroup, cog = p.COutPerGroup, tm = v.M;
        var m = new double[p.COut * cig * 9];
        ForEachPatch(v, x, p, (n, g, oy, ox, ci, s) =>
        {
            for (int co = g * cog; co < (g + 1) * cog; co++)
            for (int r = 0; r < Math.Min(tm, p.OutH - oy); r++)
            for (int c = 0; c < Math.Min(tm, p.OutW - ox); c++)
            {
                double e = Math.Abs(dy[((n * p.COut + co) * p.OutH + oy + r) * p.OutW + ox + c]);
                for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++)
                    m[((co * cig + ci) * 3 + kh) * 3 + kw] += e * s[r, kh, c, kw];
            }
        });
        return m;
    }

    /// <summary>Winograd weight gradient against the double reference; the sum over tiles adds one rounding per tile.</summary>
    private static double CheckWeightGrad(Variant v, Conv2dParams p, Random rng, int maxBlockTiles, Action<float[], float[], float[], Conv2dParams>? run = null)
    {
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        var dw = new float[p.COut * p.ColRows];
        var exact = new double[dw.Length];
        if (run is null) v.WeightGrad(x, dy, dw, p, maxBlockTiles, long.MaxValue);
        else run(x, dy, dw, p);
        ReferenceConv.WeightGrad<double>(Wide(x), Wide(dy), exact, p);
        long tiles = (long)p.N * ((p.OutH + v.M - 1) / v.M) * ((p.OutW + v.M - 1) / v.M);
        return ErrorInEpsM(dw, exact, WeightGradMagnitude(v, x, dy, p), v.Roundings + tiles, $"{v} weight grad {p} block {maxBlockTiles}");
    }

    private double RandomWeightGrads(Variant v, int seed, int cases)
    {
        var rng = new Random(seed);
        double worst = 0;
        for (int i = 0; i < cases; i++)
        {
            var p = Next(rng, maxPad: 3);
            worst = Math.Max(worst, CheckWeightGrad(v, p, rng, i % 3 == 0 ? rng.Next(1, 40) : int.MaxValue));
        }
        output.WriteLine($"{v}: worst weight-gradient error {worst:F2} ε·m over {cases} geometries");
        return worst;
    }

    [Theory]
    [InlineData("F4x4")]
    [InlineData("F2x2")]
    public void WeightGradMatchesDoubleReferenceOnRandomGeometries(string variant) => RandomWeightGrads(Variant.Named(variant), 4242, 60);

    [Fact]
    public void PortableWeightGradMatchesDoubleReference() =>
        GemmPaths.With(GemmPath.Portable, () => RandomWeightGrads(Variant.F2x2, 4343, 25));

    /// <summary>Forced F(2×2) runs the weight gradient through the dispatcher on Winograd too, across tile blocks of a wider layer.</summary>
    [Fact]
    public void WeightGradThroughTheDispatcherMatchesReference()
    {
        var rng = new Random(88);
        using var _ = Engine.Force(ConvAlgorithm.Winograd2);
        var p = new Conv2dParams { N = 2, CIn = 24, H = 30, W = 27, COut = 20, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 30, OutW = 27 };
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(p, inference: false));
        output.WriteLine($"error {CheckWeightGrad(Variant.F2x2, p, rng, 0, (x, dy, dw, q) => ConvKernels.WeightGrad(x, dy, dw, q)):F2} ε·m");
    }

    /// <summary>A random 3×3, stride-1 geometry: sizes 1–40, paddings 0–<paramref name="maxPad"/> on each side independently (bottom/right implied by the output size, so often asymmetric).</summary>
    private static Conv2dParams Next(Random rng, int maxPad)
    {
        while (true)
        {
            int groups = rng.Next(1, 4), h = rng.Next(1, 41), w = rng.Next(1, 41);
            int pt = rng.Next(0, maxPad + 1), pl = rng.Next(0, maxPad + 1), pb = rng.Next(0, maxPad + 1), pr = rng.Next(0, maxPad + 1);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, 3, 1, 1), ow = Conv2dParams.ConvOutSize(w, pl + pr, 3, 1, 1);
            if (oh < 1 || ow < 1) continue;
            var p = new Conv2dParams
            {
                N = rng.Next(1, 4), CIn = groups * rng.Next(1, 40 / groups + 1), H = h, W = w, COut = groups * rng.Next(1, 40 / groups + 1),
                KH = 3, KW = 3, PadTop = pt, PadLeft = pl, Groups = groups, OutH = oh, OutW = ow,
            };
            // Keep the double reference cheap: a few million multiply-adds per case.
            if ((long)p.N * p.COut * p.OutPlane * p.CInPerGroup * 9 <= 4_000_000) return p;
        }
    }

    private static double[] Abs(float[] a) => a.Select(v => (double)Math.Abs(v)).ToArray();
    private static double[] Wide(float[] a) => a.Select(v => (double)v).ToArray();

    /// <summary>Largest |fast − exact| / (ε·m) over the outputs, failing when it exceeds <paramref name="bound"/>.</summary>
    private static double ErrorInEpsM(float[] fast, double[] exact, double[] magnitude, double bound, string what)
    {
        double worst = 0;
        for (int i = 0; i < fast.Length; i++)
        {
            double e = Math.Abs(fast[i] - exact[i]) / (Eps * Math.Max(magnitude[i], 1e-30));
            Assert.True(e <= bound, $"{what}: element {i} is {fast[i]}, exact {exact[i]}, error {e:F1} ε·m > {bound}");
            worst = Math.Max(worst, e);
        }
        return worst;
    }

    /// <summary>Winograd forward against the double reference for <paramref name="p"/>; returns the error in ε·m.</summary>
    private static double CheckForward(Variant v, Conv2dParams p, Random rng, int maxBlockTiles = int.MaxValue)
    {
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = rng.Next(2) == 0 ? Array.Empty<float>() : ConvGeometryGen.Data(rng, p.COut);
        var y = new float[p.N * p.COut * p.OutPlane];
        var exact = new double[y.Length];
        Assert.True(WinogradConv.Applies(p));
        v.Forward(x, w, b, y, p, maxBlockTiles, long.MaxValue);
        ReferenceConv.Forward<double>(Wide(x), Wide(w), Wide(b), exact, p);
        return ErrorInEpsM(y, exact, WinogradMagnitude(v, x, w, b, p), v.Bound(p.CInPerGroup), $"{v} forward {p} bias={b.Length > 0}");
    }

    private double RandomForwards(Variant v, int seed, int cases)
    {
        var rng = new Random(seed);
        double worst = 0;
        for (int i = 0; i < cases; i++) worst = Math.Max(worst, CheckForward(v, Next(rng, maxPad: 3), rng));
        output.WriteLine($"{v}: worst error {worst:F2} ε·m over {cases} geometries (bound {v.Roundings} + CIn/g)");
        return worst;
    }

    [Theory]
    [InlineData("F4x4")]
    [InlineData("F2x2")]
    public void ForwardMatchesDoubleReferenceOnRandomGeometries(string variant) => RandomForwards(Variant.Named(variant), 2015, 80);

    [Theory]
    [InlineData("F4x4")]
    [InlineData("F2x2")]
    public void PortablePathMatchesDoubleReference(string variant) =>
        GemmPaths.With(GemmPath.Portable, () => RandomForwards(Variant.Named(variant), 1606, 40));

    /// <summary>
    /// Output channels in chunks (a small transformed-filter budget forces 2 to 5 of them, the last one short, in
    /// both groups) give bit for bit the unchunked result, which the other tests check against the reference: the
    /// forward, and the weight gradient (whose accumulated products are chunked the same way), across tile blocks.
    /// </summary>
    [Theory]
    [InlineData("F4x4", false)]
    [InlineData("F2x2", false)]
    [InlineData("F4x4", true)]
    [InlineData("F2x2", true)]
    public void ChunksOfOutputChannelsGiveTheUnchunkedResult(string variant, bool weightGradient)
    {
        var rng = new Random(6);
        // 75 output and 40 input channels per group: U rows of 40 floats, 3088 floats per ξ unchunked.
        var p = new Conv2dParams { N = 2, CIn = 80, H = 9, W = 10, COut = 150, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 9, OutW = 10, Groups = 2 };
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = ConvGeometryGen.Data(rng, p.COut);
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        var v = Variant.Named(variant);
        float[] Run(long budget)
        {
            var result = new float[weightGradient ? w.Length : dy.Length];
            if (weightGradient) v.WeightGrad(x, dy, result, p, 7, budget);
            else v.Forward(x, w, b, result, p, int.MaxValue, budget);
            return result;
        }
        var whole = Run(long.MaxValue);
        int xi = v.Alpha * v.Alpha;   // α² transformed-filter matrices
        // 2100 floats per ξ fit chunks of 40 channels (2 chunks, the last of 35); 1100 fit chunks of 24 (4, the last of 3).
        foreach (long budget in new long[] { xi * 2100L, xi * 1100L }) Assert.Equal(whole, Run(budget));
    }

    /// <summary>
    /// The per-channel map (eval batch norm's scale and shift, then ReLU) applied in the output transform equals, bit for
    /// bit, the plain forward followed by a separate pass of the map: odd planes whose last tiles are cut, several
    /// images and groups, with and without a bias, the scale alone, the ReLU alone.
    /// </summary>
    [Theory]
    [InlineData(ConvAlgorithm.Winograd)]
    [InlineData(ConvAlgorithm.Winograd2)]
    public void FusedMapEqualsASeparatePass(ConvAlgorithm algorithm)
    {
        var rng = new Random(77 + (int)algorithm);
        var p = new Conv2dParams { N = 2, CIn = 12, H = 13, W = 11, COut = 10, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 13, OutW = 11, Groups = 2 };
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = ConvGeometryGen.Data(rng, p.COut);
        var scale = ConvGeometryGen.Data(rng, p.COut);
        var shift = ConvGeometryGen.Data(rng, p.COut);
        foreach (var map in new ConvEpilogue[] { new(scale, shift, true), new(scale, null, false), new(null, null, true), new(scale, shift, false) })
        foreach (var bias in new[] { b, [] })
        {
            var separate = new float[p.N * p.COut * p.OutPlane];
            var fused = Enumerable.Repeat(float.NaN, separate.Length).ToArray();
            if (algorithm == ConvAlgorithm.Winograd)
            {
                WinogradConv<F4x4>.Forward(x, w, bias, separate, p);
                WinogradConv<F4x4>.Forward(x, w, bias, fused, p, map);
            }
            else
            {
                WinogradConv<F2x2>.Forward(x, w, bias, separate, p);
                WinogradConv<F2x2>.Forward(x, w, bias, fused, p, map);
            }
            map.Apply(separate, p);
            Assert.Equal(separate, fused);
        }
    }

    /// <summary>Several tile blocks per call, a ragged last block, and images whose tiles straddle block edges.</summary>
    [Theory]
    [InlineData("F4x4")]
    [InlineData("F2x2")]
    public void ForwardMatchesAcrossTileBlocks(string variant)
    {
        var rng = new Random(5);
        var p = new Conv2dParams { N = 3, CIn = 10, H = 23, W = 17, COut = 6, KH = 3, KW = 3, PadTop = 1, PadLeft = 0, OutH = 23, OutW = 16, Groups = 2 };
        foreach (int block in new[] { 16, 48, 80 })
            output.WriteLine($"block {block}: error {CheckForward(Variant.Named(variant), p, rng, block):F2} ε·m");
    }

    [Theory]
    [InlineData("F4x4")]
    [InlineData("F2x2")]
    public void AdjointThroughTheDispatcherMatchesReference(string variant)
    {
        var v = Variant.Named(variant);
        var rng = new Random(77);
        double worst = 0;
        using var _ = Engine.Force(v.Algorithm);
        for (int i = 0; i < 60; i++)
        {
            // Paddings up to 3 also cover the fallback (the flipped geometry needs padding ≤ 2).
            var p = Next(rng, maxPad: 3);
            Assert.Equal(v.Algorithm, ConvKernels.Choose(p));
            var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
            var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
            var b = rng.Next(2) == 0 ? Array.Empty<float>() : ConvGeometryGen.Data(rng, p.CIn);
            var dx = new float[p.N * p.CIn * p.InPlane];
            var exact = new double[dx.Length];
            ConvKernels.Adjoint(dy, w, b, dx, p);
            ReferenceConv.Adjoint<double>(Wide(dy), Wide(w), Wide(b), exact, p);
            if (Im2ColGemmConv.FlippedForward(p) is { } flipped && WinogradConv.Applies(flipped))
            {
                var m = WinogradMagnitude(v, dy, Im2ColGemmConv.RentFlippedWeight(w, p).AsSpan(0, w.Length).ToArray(), b, flipped);
                worst = Math.Max(worst, ErrorInEpsM(dx, exact, m, v.Bound(p.COutPerGroup), $"{v} adjoint {p}"));
            }
            else
            {
                // The im2col fallback: direct sums of 9·COut/g products plus the bias.
                var m = new double[dx.Length];
                ReferenceConv.Adjoint<double>(Abs(dy), Abs(w), Abs(b), m, p);
                ErrorInEpsM(dx, exact, m, 2 + 9 * p.COutPerGroup, $"im2col adjoint fallback {p}");
            }
        }
        output.WriteLine($"{v}: worst adjoint error {worst:F2} ε·m");
    }

    /// <summary>In Auto a C64 → K3 head runs Winograd forward, while its adjoint (a C3 → K64 forward) stays on im2col.</summary>
    [Fact]
    public void AutoAdjointOfAHeadLayerMatchesReference()
    {
        var rng = new Random(3);
        var p = new Conv2dParams { N = 1, CIn = 64, H = 32, W = 32, COut = 3, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 32, OutW = 32 };
        Assert.Equal(ConvAlgorithm.Winograd, ConvKernels.Choose(p));
        Assert.False(F4x4.Wins(Im2ColGemmConv.FlippedForward(p)!));
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var dx = new float[p.N * p.CIn * p.InPlane];
        var exact = new double[dx.Length];
        var m = new double[dx.Length];
        ConvKernels.Adjoint(dy, w, default, dx, p);
        ReferenceConv.Adjoint<double>(Wide(dy), Wide(w), default, exact, p);
        ReferenceConv.Adjoint<double>(Abs(dy), Abs(w), default, m, p);
        ErrorInEpsM(dx, exact, m, 9 * p.COutPerGroup, $"auto adjoint {p}");
    }

    /// <summary>
    /// F(2×2) is forced-only for inference and Auto's choice for training layers with ≥ 32 input channels per group and
    /// ≥ 512 output pixels (see F2x2.Wins), its weight gradient from 64; forcing it elsewhere falls back to the automatic choice.
    /// </summary>
    [Fact]
    public void DispatcherPicksWinograd2ForBigTrainingLayers()
    {
        var big = new Conv2dParams { N = 8, CIn = 64, H = 56, W = 56, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 56, OutW = 56 };
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(big, inference: false));
        Assert.Equal(ConvAlgorithm.Winograd, ConvKernels.Choose(big, inference: true));
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(big with { N = 2, CIn = 512, COut = 512, H = 16, W = 16, OutH = 16, OutW = 16 }, inference: false));
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(big with { CIn = 32 }, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { CIn = 32 }, inference: false, weightGradient: true));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { CIn = 31 }, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { N = 1, H = 16, W = 16, OutH = 16, OutW = 16 }, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { StrideH = 2, StrideW = 2, OutH = 28, OutW = 28 }, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { KH = 1, KW = 1, PadTop = 0, PadLeft = 0 }, inference: false));
        Assert.Equal(ConvAlgorithm.Depthwise, ConvKernels.Choose(big with { Groups = 64 }, inference: false));
        using (Engine.Force(ConvAlgorithm.Winograd2))
        {
            Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(big with { CIn = 2, COut = 2 }));
            Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { DilationH = 2, DilationW = 2, PadTop = 2, PadLeft = 2 }, inference: false));
        }
    }

    private static readonly Conv2dParams OddPlane = new() { N = 11, CIn = 64, H = 7, W = 7, COut = 16, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 7, OutW = 7 };

    /// <summary>
    /// On 7×7 planes (a quarter of the 2×2 tiles' outputs padding) Auto keeps the training forward and adjoint on im2col
    /// but on the AVX-512 path still takes F(2×2)'s weight gradient, and ConvKernels.WeightGrad then gives exactly its result.
    /// </summary>
    [Avx512Fact]
    public void OddPlanesKeepTheForwardOnIm2ColButTheWeightGradientOnWinograd()
    {
        var p = OddPlane;
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(p, inference: false));
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(p with { H = 8, W = 8, OutH = 8, OutW = 8 }, inference: false));
        Assert.True(F2x2.WinsWeightGradient(p));
        Assert.Equal(ConvAlgorithm.Winograd2, ConvKernels.Choose(p, inference: false, weightGradient: true));
        AssertDispatchedWeightGradient(p, winograd: true);
    }

    /// <summary>On the AVX2 path the weight gradient of such planes stays on im2col too, whose result ConvKernels.WeightGrad then gives.</summary>
    [Avx2Fact]
    public void OnAvx2OddPlanesKeepTheWeightGradientOnIm2Col() => GemmPaths.With(GemmPath.Avx2, () =>
    {
        var p = OddPlane;
        Assert.False(F2x2.WinsWeightGradient(p));
        Assert.True(F2x2.WinsWeightGradient(p with { H = 8, W = 8, OutH = 8, OutW = 8 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(p, inference: false, weightGradient: true));
        AssertDispatchedWeightGradient(p, winograd: false);
    });

    /// <summary>ConvKernels.WeightGrad gives exactly F(2×2)'s result or exactly im2col's (the two differ in their last bits).</summary>
    private static void AssertDispatchedWeightGradient(Conv2dParams p, bool winograd)
    {
        var rng = new Random(9);
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var dy = ConvGeometryGen.Data(rng, p.N * p.COut * p.OutPlane);
        float[] viaDispatcher = new float[p.COut * p.ColRows], winogradResult = new float[viaDispatcher.Length], im2col = new float[viaDispatcher.Length];
        ConvKernels.WeightGrad(x, dy, viaDispatcher, p);
        WinogradConv<ConvKit.Kernels.Cpu.F2x2>.WeightGrad(x, dy, winogradResult, p);
        Im2ColGemmConv.WeightGrad(x, dy, im2col, p);
        Assert.Equal(winograd ? winogradResult : im2col, viaDispatcher);
        Assert.NotEqual(winograd ? im2col : winogradResult, viaDispatcher);
    }

    [Fact]
    public void DispatcherPicksWinogradOnlyForBig3x3Stride1Layers()
    {
        var big = new Conv2dParams { N = 1, CIn = 64, H = 56, W = 56, COut = 64, KH = 3, KW = 3, PadTop = 1, PadLeft = 1, OutH = 56, OutW = 56 };
        Assert.Equal(ConvAlgorithm.Winograd, ConvKernels.Choose(big));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { StrideH = 2, StrideW = 2, OutH = 28, OutW = 28 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { KH = 5, KW = 5, PadTop = 2, PadLeft = 2 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { DilationH = 2, DilationW = 2, PadTop = 2, PadLeft = 2 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { H = 14, W = 14, OutH = 14, OutW = 14 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { CIn = 256, COut = 256, H = 16, W = 16, OutH = 16, OutW = 16 }));
        Assert.Equal(ConvAlgorithm.Winograd, ConvKernels.Choose(big with { CIn = 256, COut = 256, H = 28, W = 28, OutH = 28, OutW = 28 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { CIn = 1024, COut = 1024, H = 28, W = 28, OutH = 28, OutW = 28 }));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big with { CIn = 3 }));
        Assert.Equal(ConvAlgorithm.Depthwise, ConvKernels.Choose(big with { Groups = 64 }));
        var pointwise = big with { KH = 1, KW = 1, PadTop = 0, PadLeft = 0 };
        using (Engine.Force(ConvAlgorithm.Winograd))
        {
            Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(pointwise));
            Assert.Equal(ConvAlgorithm.Winograd, ConvKernels.Choose(big with { CIn = 2, COut = 2 }));
        }
        using (Engine.Force(ConvAlgorithm.Im2ColGemm))
            Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(big));
    }
}
