namespace ConvKit.Tests.Kernels;

/// <summary>A convolution kernel entry point: forward (x → y) or adjoint (y → x) with a bias, as the kernels take them.</summary>
internal delegate void ConvKernel(ReadOnlySpan<float> input, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> output, Conv2dParams p);

/// <summary>Random valid convolution geometries: odd sizes, rectangular kernels, asymmetric padding, groups, dilation.</summary>
internal static class ConvGeometryGen
{
    /// <summary>
    /// <paramref name="fast"/>'s forward against the reference on random x, w and (when <paramref name="bias"/>) b; its
    /// output starts as NaN, so every element must be written. Returns x for checks that go on with it.
    /// </summary>
    public static float[] AssertForwardMatchesReference(Conv2dParams p, Random rng, bool bias, ConvKernel fast, string what)
    {
        var x = Data(rng, p.N * p.CIn * p.InPlane);
        var w = Data(rng, p.COut * p.ColRows);
        var b = bias ? Data(rng, p.COut) : [];
        var yRef = new float[p.N * p.COut * p.OutPlane];
        var yFast = Enumerable.Repeat(float.NaN, yRef.Length).ToArray();
        ConvKit.Kernels.Reference.ReferenceConv.Forward<float>(x, w, b, yRef, p);
        fast(x, w, b, yFast, p);
        AssertClose(yRef, yFast, what);
        return x;
    }

    /// <summary>Each element within 1e-4 of the reference's, relative above magnitude 1.</summary>
    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Xunit.Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])),
                $"{what}: element {i} is {actual[i]}, reference {expected[i]}");
    }

    /// <summary>A geometry with H in [1, maxH), W in [minW, maxW), strides/dilations/paddings below <paramref name="maxStep"/>, CIn/g &lt; 5 and COut/g &lt; maxCOut.</summary>
    public static Conv2dParams Next(Random rng, int maxH = 14, int minW = 1, int maxW = 14, int maxStep = 4, int maxCOut = 5)
    {
        while (true)
        {
            int groups = rng.Next(1, 4);
            int kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            int sh = rng.Next(1, maxStep), sw = rng.Next(1, maxStep), dh = rng.Next(1, maxStep), dw = rng.Next(1, maxStep);
            int h = rng.Next(1, maxH), w = rng.Next(minW, maxW);
            int pt = rng.Next(0, maxStep), pl = rng.Next(0, maxStep), pb = rng.Next(0, maxStep), pr = rng.Next(0, maxStep);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, kh, sh, dh), ow = Conv2dParams.ConvOutSize(w, pl + pr, kw, sw, dw);
            if (oh < 1 || ow < 1) continue;
            return new Conv2dParams
            {
                N = rng.Next(1, 4), CIn = groups * rng.Next(1, 5), H = h, W = w, COut = groups * rng.Next(1, maxCOut), KH = kh, KW = kw,
                StrideH = sh, StrideW = sw, PadTop = pt, PadLeft = pl, DilationH = dh, DilationW = dw, Groups = groups, OutH = oh, OutW = ow,
            };
        }
    }

    public static float[] Data(Random rng, int n)
    {
        var d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float)(rng.NextDouble() * 2 - 1);
        return d;
    }
}
