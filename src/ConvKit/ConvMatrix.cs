namespace ConvKit;

/// <summary>
/// The explicit matrix of a convolution on one image: for the conv2d configuration, a matrix W of shape
/// [COut·OutH·OutW, CIn·H·W] with conv(x) = W·vec(x) and conv_transpose(y) = Wᵀ·vec(y), vec() being the
/// row-major flattening of one [C, H, W] image. This is the "convolution as matrix multiplication" view of
/// the tutorials and what <c>convkit explain</c> prints.
/// </summary>
public static class ConvMatrix
{
    /// <summary>W for <c>F.Conv2d(x, weight, stride, padding, dilation, groups)</c> on an input of [CIn, height, width].</summary>
    public static Tensor ForConv2d(Tensor weight, int height, int width, Pair? stride = null, Padding? padding = null, Pair? dilation = null, int groups = 1)
    {
        int cIn = weight.Dim == 4 ? weight.Sizes[1] * groups : 0;
        int[] shape = [1, cIn, height, width];
        return Build(weight, F.Conv2dGeometry(shape, shape[1..], weight, null, stride, padding, dilation, groups));
    }

    /// <summary>
    /// The matrix of <c>F.ConvTranspose2d(y, weight, ...)</c> on an input of [CIn, height, width]: it equals the
    /// transpose of the conv matrix of the same geometry, shape [COut·OutH·OutW, CIn·height·width].
    /// </summary>
    public static Tensor ForConvTranspose2d(Tensor weight, int height, int width, Pair? stride = null, Pair? padding = null,
                                            Pair? outputPadding = null, int groups = 1, Pair? dilation = null)
    {
        int[] shape = [1, weight.Dim == 4 ? weight.Sizes[0] : 0, height, width];
        var p = F.ConvTranspose2dGeometry(shape, shape[1..], weight, null, stride, padding, outputPadding, groups, dilation);
        return Build(weight, p).T().Contiguous();
    }

    /// <summary>W [COut·OutH·OutW, CIn·H·W] of a geometry; weight [COut, CIn/groups, KH, KW].</summary>
    public static Tensor Build(Tensor weight, Conv2dParams p)
    {
        long cells = (long)p.COut * p.OutPlane * p.CIn * p.InPlane;
        if (cells > 64L * 1024 * 1024)
            throw new ArgumentException($"ConvMatrix: the matrix would have {cells} entries ({p.COut * p.OutPlane} x {p.CIn * p.InPlane}); it is meant for small examples");
        var w = weight.Contiguous().Span;
        int cols = p.CIn * p.InPlane;
        var m = Tensor.Zeros(p.COut * p.OutPlane, cols);
        var d = m.Span;
        int cig = p.CInPerGroup, cog = p.COutPerGroup;
        for (int co = 0; co < p.COut; co++)
        for (int oh = 0; oh < p.OutH; oh++)
        for (int ow = 0; ow < p.OutW; ow++)
        {
            int row = (co * p.OutH + oh) * p.OutW + ow;
            for (int ci = 0; ci < cig; ci++)
            for (int kh = 0; kh < p.KH; kh++)
            for (int kw = 0; kw < p.KW; kw++)
            {
                int ih = oh * p.StrideH - p.PadTop + kh * p.DilationH, iw = ow * p.StrideW - p.PadLeft + kw * p.DilationW;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                d[row * cols + ((co / cog * cig + ci) * p.H + ih) * p.W + iw] += w[((co * cig + ci) * p.KH + kh) * p.KW + kw];
            }
        }
        return m;
    }
}
