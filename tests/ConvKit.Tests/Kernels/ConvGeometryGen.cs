namespace ConvKit.Tests.Kernels;

/// <summary>Random valid convolution geometries: odd sizes, rectangular kernels, asymmetric padding, groups, dilation.</summary>
internal static class ConvGeometryGen
{
    public static Conv2dParams Next(Random rng)
    {
        while (true)
        {
            int groups = rng.Next(1, 4);
            int kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            int sh = rng.Next(1, 4), sw = rng.Next(1, 4), dh = rng.Next(1, 4), dw = rng.Next(1, 4);
            int h = rng.Next(1, 14), w = rng.Next(1, 14);
            int pt = rng.Next(0, 4), pl = rng.Next(0, 4), pb = rng.Next(0, 4), pr = rng.Next(0, 4);
            int oh = Conv2dParams.ConvOutSize(h, pt + pb, kh, sh, dh), ow = Conv2dParams.ConvOutSize(w, pl + pr, kw, sw, dw);
            if (oh < 1 || ow < 1) continue;
            return new Conv2dParams
            {
                N = rng.Next(1, 4), CIn = groups * rng.Next(1, 5), H = h, W = w, COut = groups * rng.Next(1, 5), KH = kh, KW = kw,
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
