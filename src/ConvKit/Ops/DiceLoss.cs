namespace ConvKit;

public static partial class F
{
    /// <summary>
    /// Soft multi-class Dice loss for segmentation (PyTorch has no built-in; tools/golden/gen_golden_train.py holds
    /// the reference implementation the tests compare against). <paramref name="input"/> holds logits [N, C, H, W]
    /// (generally [N, C, d1, ..., dk]), <paramref name="target"/> class indices [N, H, W]. With p = softmax(input, 1),
    /// t the one-hot target and m the mask of pixels whose target is not <paramref name="ignoreIndex"/>, sums run over
    /// the batch and all pixels (every dim but C):
    /// <code>
    /// dice_c = (2·Σ p_c·t_c·m + smooth) / (Σ p_c·m + Σ t_c·m + smooth)
    /// loss   = mean over c of (1 − dice_c)
    /// </code>
    /// All C classes enter the mean, also one equal to an in-range ignoreIndex (its t is then zero everywhere).
    /// A 0-dim tensor, differentiable with respect to input. Targets outside [0, C) other than ignoreIndex raise
    /// ArgumentException.
    /// </summary>
    public static Tensor DiceLoss(Tensor input, LongTensor target, float smooth = 1, int ignoreIndex = -100)
    {
        const string op = "dice_loss";
        if (input.Dim < 2)
            throw new ArgumentException($"{op}: expected input [N, C, H, W] (at least [N, C]), got {ShapeUtil.Format(input.Sizes)}");
        var geo = ClassTargets.Check(input, target, null, ignoreIndex, op);
        var (oneHot, mask) = OneHotAndMask(target, ignoreIndex, geo, input.Sizes);
        var probs = Softmax(input, 1) * mask;
        var dims = geo.ReduceDims;
        var intersection = (probs * oneHot).Sum(dims);
        var denominator = probs.Sum(dims) + oneHot.Sum(dims) + smooth;
        var dice = (2f * intersection + smooth) / denominator;
        return (1f - dice).Mean();
    }

    /// <summary>One-hot targets [N, C, d...] (zero at ignored pixels) and the kept-pixel mask [N, 1, d...].</summary>
    private static (Tensor OneHot, Tensor Mask) OneHotAndMask(LongTensor target, long ignoreIndex, ClassTargets geo, int[] inputShape)
    {
        var oneHot = Tensor.Zeros(inputShape);
        var maskShape = (int[])inputShape.Clone();
        maskShape[1] = 1;
        var mask = Tensor.Zeros(maskShape);
        var t = target.Span;
        Span<float> h = oneHot.Span, m = mask.Span;
        for (int p = 0; p < t.Length; p++)
        {
            if (t[p] == ignoreIndex) continue;
            h[geo.InputIndex(p, t[p])] = 1f;
            m[p] = 1f;
        }
        return (oneHot, mask);
    }
}
