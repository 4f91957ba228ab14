using ConvKit.Kernels.Reference;

namespace ConvKit;

/// <summary>A scale factor per spatial axis; a double converts to (v, v).</summary>
public readonly record struct ScalePair(double H, double W)
{
    public static implicit operator ScalePair(double v) => new(v, v);
    public static implicit operator ScalePair((double H, double W) t) => new(t.H, t.W);
}

public static partial class F
{
    /// <summary>
    /// Resamples by output <paramref name="size"/> or <paramref name="scaleFactor"/>, as
    /// <c>torch.nn.functional.interpolate</c>. Modes: "nearest" (PyTorch's legacy rounding), "nearest-exact" and
    /// "bilinear" (with <paramref name="alignCorners"/>). input [N, C, H, W] → [N, C, OutH, OutW]; for nearest modes
    /// a 3-D input [N, C, L] is resampled along L, as in PyTorch. With a scale factor, OutH = ⌊H·scale⌋ and the
    /// sampling uses 1/scale, not H/OutH, exactly as PyTorch does without recompute_scale_factor.
    /// </summary>
    public static Tensor Interpolate(Tensor input, Pair? size = null, ScalePair? scaleFactor = null, string mode = "nearest", bool? alignCorners = null)
    {
        const string op = "interpolate";
        bool linear = mode == "bilinear";
        if (mode is not ("nearest" or "nearest-exact" or "bilinear"))
            throw new ArgumentException($"{op}: unsupported mode '{mode}'; expected one of 'nearest', 'nearest-exact', 'bilinear'");
        if (alignCorners != null && !linear)
            throw new ArgumentException($"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear");
        if (size != null && scaleFactor != null) throw new ArgumentException($"{op}: only one of size or scale_factor should be defined");
        if (size == null && scaleFactor == null) throw new ArgumentException($"{op}: either size or scale_factor should be defined");
        if (input.Dim == 3 && linear) throw new ArgumentException($"{op}: Got 3D input, but bilinear mode needs 4D input");
        if (input.Dim != 3 && input.Dim != 4)
            throw new ArgumentException($"{op}: Input Error: Only 3D and 4D input Tensors supported for modes nearest/nearest-exact/bilinear (got {input.Dim}D), input of size {ShapeUtil.Format(input.Sizes)}");
        bool oneD = input.Dim == 3;
        var x = oneD ? input.Unsqueeze(2) : input;
        int h = x.Sizes[2], w = x.Sizes[3];
        double? sh = null, sw = null;
        int oh, ow;
        if (size is Pair sz) { (oh, ow) = oneD ? (1, sz.W) : (sz.H, sz.W); }
        else
        {
            var sf = scaleFactor!.Value;
            if (oneD) sf = new ScalePair(1, sf.W);
            if (sf.H <= 0 || sf.W <= 0 || double.IsNaN(sf.H) || double.IsNaN(sf.W))
                throw new ArgumentException($"{op}: scale_factor must be positive, got ({sf.H}, {sf.W})");
            (sh, sw) = (oneD ? null : sf.H, sf.W);
            oh = (int)Math.Floor(h * sf.H);
            ow = (int)Math.Floor(w * sf.W);
        }
        if (h <= 0 || w <= 0 || oh <= 0 || ow <= 0)
            throw new ArgumentException($"{op}: Input and output sizes should be greater than 0, but got input (H: {h}, W: {w}) output (H: {oh}, W: {ow})");
        bool exact = mode == "nearest-exact";
        // PyTorch picks its channels-last kernel (which has the legacy index shortcuts) when a contiguous
        // [N, C, H, W] tensor is also channels-last contiguous: C == 1 or H·W == 1. Match it.
        bool shortcut = !oneD && (x.Sizes[1] == 1 || h * w == 1);
        var th = linear ? ReferenceInterpolate.Linear(h, oh, sh, alignCorners ?? false) : ReferenceInterpolate.Nearest(h, oh, sh, exact, shortcut);
        var tw = linear ? ReferenceInterpolate.Linear(w, ow, sw, alignCorners ?? false) : ReferenceInterpolate.Nearest(w, ow, sw, exact, shortcut);
        int planes = x.Sizes[0] * x.Sizes[1];
        var y = Tensor.Empty(x.Sizes[0], x.Sizes[1], oh, ow);
        ReferenceInterpolate.Forward(x.Contiguous().Span, y.Span, planes, h, w, th, tw);
        // PyTorch 1.13's nearest backward always uses the shortcut indices, even where its forward did not
        // (a scale with ⌊in·s⌋ equal to in or 2·in); matching it keeps gradients identical to PyTorch's.
        var (bh, bw) = linear || exact || shortcut
            ? (th, tw)
            : (ReferenceInterpolate.Nearest(h, oh, sh, false, true), ReferenceInterpolate.Nearest(w, ow, sw, false, true));
        var r = Autograd.Record(y, x, g =>
        {
            var dx = Tensor.Empty(x.Sizes);
            ReferenceInterpolate.Backward(g.Contiguous().Span, dx.Span, planes, h, w, bh, bw);
            return dx;
        });
        return oneD ? r.Squeeze(2) : r;
    }
}
