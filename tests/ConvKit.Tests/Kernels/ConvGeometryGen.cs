namespace ConvKit.Tests.Kernels;

/// <summary>Random valid convolution geometries: odd sizes, rectangular kernels, asymmetric padding, groups, dilation.</summary>
internal static class ConvGeometryGen
{
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
