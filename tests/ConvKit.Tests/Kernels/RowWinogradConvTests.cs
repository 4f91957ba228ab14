using ConvKit.Kernels;
using ConvKit.Kernels.Cpu;
using ConvKit.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// Row Winograd F(3, 4) for stride-2 convolutions with 5–8 filter columns, against the double reference on random
/// geometries on every GEMM path. The error bound is the classic γ bound of its arithmetic: an output is
/// Σ_ξ Aᵀ[i, ξ] Σ_k U_ξk V_ξk + bias, each U and V a short transform sum, so |error| ≤ (K + 16)·ε·m with
/// m = Σ_ξ |Aᵀ[i, ξ]| Σ_k (Σ_b |G[ξ, b]||g_b|)(Σ_e |Bᵀ[ξ, e]||d_e|) + |bias| and K = 2·C·KH the GEMM depth. A wrong
/// tap, tile or phase is off by O(1) of the output, millions of ε·m.
/// </summary>
[Collection(ForceScalarCollection.Name)]
public class RowWinogradConvTests(ITestOutputHelper output)
{
    private const double Eps = 1.0 / (1 << 24);

    private static readonly double[,] G =
    {
        { 0.25, 0, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3 }, { 0, 0, 0, 1 },
    };

    private static readonly double[,] Bt =
    {
        { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 }, { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
    };

    private static readonly double[,] At = { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 1 } };

    /// <summary>The matrices the test bounds with are F(3, 4)'s: Aᵀ[(G g) ⊙ (Bᵀ d)] is the 4-tap correlation of d.</summary>
    [Fact]
    public void TheTransformMatricesComputeAFourTapCorrelation()
    {
        var rng = new Random(5);
        double[] d = [.. Enumerable.Range(0, 6).Select(_ => rng.NextDouble() - 0.5)], g = [.. Enumerable.Range(0, 4).Select(_ => rng.NextDouble() - 0.5)];
        for (int i = 0; i < 3; i++)
        {
            double y = 0, direct = 0;
            for (int xi = 0; xi < 6; xi++)
            {
                double u = 0, v = 0;
                for (int b = 0; b < 4; b++) u += G[xi, b] * g[b];
                for (int e = 0; e < 6; e++) v += Bt[xi, e] * d[e];
                y += At[i, xi] * u * v;
            }
            for (int b = 0; b < 4; b++) direct += g[b] * d[i + b];
            Assert.Equal(direct, y, 1e-12);
        }
    }

    public static TheoryData<GemmPath> Paths() => [.. GemmPaths.All];

    [Theory]
    [MemberData(nameof(Paths))]
    public void ForcedForwardMatchesReferenceOnRandomGeometries(GemmPath path)
    {
        var rng = new Random(4242 + (int)path);
        double worst = 0;
        GemmPaths.With(path, () =>
        {
            using var _ = Engine.Force(ConvAlgorithm.RowWinograd);
            for (int i = 0; i < 40; i++)
            {
                var p = Next(rng);
                Assert.Equal(ConvAlgorithm.RowWinograd, ConvKernels.Choose(p));
                worst = Math.Max(worst, Check(p, rng));
            }
        });
        output.WriteLine($"{path}: worst error {worst:F2} ε·m");
    }

    /// <summary>The ResNet stem's geometry on a smaller plane.</summary>
    [Fact]
    public void AStemLayerIsWithinTheBound()
    {
        var p = Stem(64, 48);
        using var _ = Engine.Force(ConvAlgorithm.RowWinograd);
        output.WriteLine($"stem error {Check(p, new Random(9)):F2} ε·m");
    }

    /// <summary>
    /// Auto leaves the stem on im2col by default (the first version loses there); switched on, it takes stem-like inference
    /// layers only: training passes and wider inputs stay on im2col.
    /// </summary>
    [Fact]
    public void AutoTakesOnlyStemLikeInferenceLayersWhenEnabled()
    {
        var stem = Stem(224, 224);
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem, inference: true));
        RowWinogradConv.Enabled = true;
        try { AssertStemRule(stem); }
        finally { RowWinogradConv.Enabled = false; }
    }

    private static void AssertStemRule(Conv2dParams stem)
    {
        Assert.Equal(ConvAlgorithm.RowWinograd, ConvKernels.Choose(stem, inference: true));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem, inference: false));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem, inference: false, weightGradient: true));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem with { CIn = 8 }, inference: true));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem with { StrideW = 1, OutW = 224 }, inference: true));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvKernels.Choose(stem with { KW = 3, PadLeft = 1 }, inference: true));
        Assert.False(RowWinogradConv.Applies(stem with { DilationW = 2, OutW = 109 }));
    }

    /// <summary>A fused eval batch norm + ReLU gives the bits of the plain forward followed by the map.</summary>
    [Fact]
    public void FusedEpilogueMatchesTheSeparatePass()
    {
        var rng = new Random(12);
        var p = Stem(37, 53) with { COut = 13 };
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = ConvGeometryGen.Data(rng, p.COut);
        var map = new ConvEpilogue(ConvGeometryGen.Data(rng, p.COut), ConvGeometryGen.Data(rng, p.COut), true);
        var fused = new float[p.N * p.COut * p.OutPlane];
        var separate = new float[fused.Length];
        RowWinogradConv.Forward(x, w, b, fused, p, map);
        RowWinogradConv.Forward(x, w, b, separate, p);
        map.Apply(separate, p);
        Assert.Equal(separate, fused);
        Assert.Contains(fused, v => v == 0f);
    }

    private static Conv2dParams Stem(int h, int w) => new()
    {
        N = 1, CIn = 3, H = h, W = w, COut = 64, KH = 7, KW = 7, StrideH = 2, StrideW = 2, PadTop = 3, PadLeft = 3,
        OutH = Conv2dParams.ConvOutSize(h, 6, 7, 2, 1), OutW = Conv2dParams.ConvOutSize(w, 6, 7, 2, 1),
    };

    /// <summary>KW 5–8 at stride 2 along W; any KH, stride and dilation along H; asymmetric padding; odd planes; 1–19 output channels.</summary>
    private static Conv2dParams Next(Random rng)
    {
        while (true)
        {
            int kh = rng.Next(1, 8), kw = rng.Next(5, 9), sh = rng.Next(1, 4), dh = rng.Next(1, 3);
            // Widths to 160 give rows of up to 40 tiles: GEMM slivers of 16 columns inside one output row, across two,
            // and (below 16 tiles) across several.
            int h = rng.Next(1, 30), w = rng.Next(1, 160);
            int pt = rng.Next(0, 4), pb = rng.Next(0, 4), pl = rng.Next(0, 4), pr = rng.Next(0, 4);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, kh, sh, dh), ow = Conv2dParams.ConvOutSize(w, pl + pr, kw, 2, 1);
            if (oh < 1 || ow < 1) continue;
            return new Conv2dParams
            {
                N = rng.Next(1, 3), CIn = rng.Next(1, 6), H = h, W = w, COut = rng.Next(1, 20), KH = kh, KW = kw, StrideH = sh, StrideW = 2,
                PadTop = pt, PadLeft = pl, DilationH = dh, DilationW = 1, OutH = oh, OutW = ow,
            };
        }
    }

    /// <summary>Forward against the double reference; every output must be written (they start as NaN). Returns the error in ε·m.</summary>
    private static double Check(Conv2dParams p, Random rng)
    {
        var x = ConvGeometryGen.Data(rng, p.N * p.CIn * p.InPlane);
        var w = ConvGeometryGen.Data(rng, p.COut * p.ColRows);
        var b = rng.Next(2) == 0 ? Array.Empty<float>() : ConvGeometryGen.Data(rng, p.COut);
        var y = Enumerable.Repeat(float.NaN, p.N * p.COut * p.OutPlane).ToArray();
        var exact = new double[y.Length];
        ConvKernels.Forward(x, w, b, y, p);
        ReferenceConv.Forward<double>([.. x.Select(v => (double)v)], [.. w.Select(v => (double)v)], [.. b.Select(v => (double)v)], exact, p);
        double bound = 2 * p.CIn * p.KH + 16, worst = 0;
        for (int n = 0; n < p.N; n++)
        for (int o = 0; o < p.COut; o++)
        for (int oy = 0; oy < p.OutH; oy++)
        for (int ox = 0; ox < p.OutW; ox++)
        {
            int at = ((n * p.COut + o) * p.OutH + oy) * p.OutW + ox;
            double m = Magnitude(x, w, p, n, o, oy, ox) + (b.Length > 0 ? Math.Abs(b[o]) : 0);
            double e = Math.Abs(y[at] - exact[at]) / (Eps * Math.Max(m, 1e-30));
            Assert.True(e <= bound, $"{p}: output {at} is {y[at]}, exact {exact[at]}, error {e:F1} ε·m > {bound}");
            worst = Math.Max(worst, e);
        }
        return worst;
    }

    /// <summary>m of the bound for output (n, o, oy, ox): tile j = ox / 3, row i = ox mod 3.</summary>
    private static double Magnitude(float[] x, float[] w, Conv2dParams p, int n, int o, int oy, int ox)
    {
        int j = ox / 3, i = ox % 3;
        double m = 0;
        for (int xi = 0; xi < 6; xi++)
        {
            double sum = 0;
            for (int c = 0; c < p.CIn; c++)
            for (int ky = 0; ky < p.KH; ky++)
            {
                int iy = oy * p.StrideH + ky * p.DilationH - p.PadTop;
                for (int q = 0; q < 2; q++)
                {
                    double u = 0, v = 0;
                    for (int bb = 0; bb < 4; bb++)
                        if (2 * bb + q < p.KW) u += Math.Abs(G[xi, bb]) * Math.Abs(w[((o * p.CIn + c) * p.KH + ky) * p.KW + 2 * bb + q]);
                    for (int e = 0; e < 6; e++)
                    {
                        int ix = 6 * j + 2 * e + q - p.PadLeft;
                        if ((uint)iy < (uint)p.H && (uint)ix < (uint)p.W) v += Math.Abs(Bt[xi, e]) * Math.Abs(x[((n * p.CIn + c) * p.H + iy) * p.W + ix]);
                    }
                    sum += u * v;
                }
            }
            m += Math.Abs(At[i, xi]) * sum;
        }
        return m;
    }
}
