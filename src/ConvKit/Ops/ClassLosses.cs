namespace ConvKit;

/// <summary>
/// The geometry of scores [N, C, d1, ..., dk] (or unbatched [C]) against class targets [N, d1, ..., dk]
/// (or 0-dim []): checked once and shared by nll_loss, cross_entropy and dice. A target position p addresses
/// batch p / Spatial and spatial offset p % Spatial.
/// </summary>
internal sealed record ClassTargets(int Classes, int Spatial, int ClassDim, int[] ReduceDims)
{
    public static ClassTargets Check(Tensor input, LongTensor target, Tensor? weight, long ignoreIndex, string op)
    {
        if (input.Dim < 1) throw new ArgumentException($"{op}: Expected 1 or more dimensions (got 0)");
        int classDim = input.Dim == 1 ? 0 : 1;
        var expected = input.Sizes.Where((_, d) => d != classDim).ToArray();
        if (!ShapeUtil.SameShape(expected, target.Shape))
            throw new ArgumentException(
                $"{op}: input of shape {ShapeUtil.Format(input.Sizes)} expects a target of shape {ShapeUtil.Format(expected)}, got {ShapeUtil.Format(target.Shape)}");
        int classes = input.Sizes[classDim];
        if (weight is not null && (weight.Dim != 1 || weight.Sizes[0] != classes))
            throw new ArgumentException(
                $"{op}: weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {ShapeUtil.Format(weight.Sizes)}");
        foreach (var t in target.Span)
            if (t != ignoreIndex && (t < 0 || t >= classes))
                throw new ArgumentException($"{op}: Target {t} is out of bounds: expected a class index in [0, {classes}) or ignoreIndex {ignoreIndex}");
        int spatial = ShapeUtil.Numel(input.Sizes.AsSpan(Math.Min(2, input.Dim)));
        var reduceDims = Enumerable.Range(0, input.Dim).Where(d => d != classDim).ToArray();
        return new ClassTargets(classes, spatial, classDim, reduceDims);
    }

    /// <summary>Index into the contiguous input of class <paramref name="cls"/> at target position <paramref name="p"/>.</summary>
    public int InputIndex(int p, long cls) => (p / Spatial * Classes + (int)cls) * Spatial + p % Spatial;

    /// <summary>Shape that broadcasts a [C] tensor along the class dim of an input of rank <paramref name="rank"/>.</summary>
    public int[] ClassShape(int rank) => Enumerable.Range(0, rank).Select(d => d == ClassDim ? Classes : 1).ToArray();

    /// <summary>1 where the target is ignored, 0 elsewhere, shaped like the target.</summary>
    public static Tensor IgnoredMask(LongTensor target, long ignoreIndex)
    {
        var t = target.Span;
        var mask = Tensor.Empty(target.Shape.ToArray());
        var m = mask.Span;
        for (int i = 0; i < t.Length; i++) m[i] = t[i] == ignoreIndex ? 1f : 0f;
        return mask;
    }
}

public static partial class F
{
    /// <summary>
    /// Negative log-likelihood of class targets, as <c>torch.nn.functional.nll_loss</c>: ℓ = −w[t]·input[t] per
    /// position, with <paramref name="input"/> holding log-probabilities [N, C], [N, C, H, W] (or [N, C, d1, ..., dk])
    /// or unbatched [C], and <paramref name="target"/> the class indices [N], [N, H, W] (or [N, d1, ..., dk]) or 0-dim [].
    /// <paramref name="weight"/> [C] rescales each class. Positions whose target is <paramref name="ignoreIndex"/>
    /// contribute 0 and are left out of the mean, which divides by the summed weight of the remaining targets
    /// (NaN when none remain). "none" returns the target's shape. Targets outside [0, C) other than ignoreIndex raise
    /// ArgumentException. Differentiable with respect to input.
    /// </summary>
    public static Tensor NllLoss(Tensor input, LongTensor target, Tensor? weight = null, int ignoreIndex = -100, string reduction = "mean")
    {
        var red = ParseReduction(reduction, "nll_loss");
        return NllLossCore(input, target, weight, ignoreIndex, red, ClassTargets.Check(input, target, weight, ignoreIndex, "nll_loss"));
    }

    private static Tensor NllLossCore(Tensor input, LongTensor target, Tensor? weight, long ignoreIndex, LossReduction red, ClassTargets geo)
    {
        var x = input.Detach().Contiguous().Span;
        var t = target.ToArray();
        var w = weight?.ToArray();
        var perPositionTensor = Tensor.Zeros(target.Shape.ToArray());
        var perPosition = perPositionTensor.Span;
        double lossSum = 0;
        for (int p = 0; p < t.Length; p++)
        {
            if (t[p] == ignoreIndex) continue;
            perPosition[p] = -(w?[t[p]] ?? 1f) * x[geo.InputIndex(p, t[p])];
            lossSum += perPosition[p];
        }
        float totalWeight = red == LossReduction.Mean ? MeanDenominator(target, weight, ignoreIndex) : 1f;
        var result = red switch
        {
            LossReduction.None => perPositionTensor,
            LossReduction.Sum => Tensor.Scalar((float)lossSum),
            _ => Tensor.Scalar((float)(lossSum / totalWeight)),
        };
        return Autograd.Record(result, input, g =>
        {
            var gi = Tensor.Zeros(input.Sizes.ToArray());
            var d = gi.Span;
            var gs = g.Contiguous().Span;
            float scalar = red == LossReduction.Mean ? gs[0] / totalWeight : gs[0];
            for (int p = 0; p < t.Length; p++)
            {
                if (t[p] == ignoreIndex) continue;
                float gp = red == LossReduction.None ? gs[p] : scalar;
                d[geo.InputIndex(p, t[p])] = -(w?[t[p]] ?? 1f) * gp;
            }
            return gi;
        });
    }

    /// <summary>
    /// Cross-entropy of logits against class indices, as <c>torch.nn.functional.cross_entropy</c> (PyTorch 1.13):
    /// nll_loss(log_softmax(input, classDim)) computed stably from log-softmax. Shapes: input [N, C] with target [N],
    /// [N, C, H, W] with per-pixel target [N, H, W] (generally [N, C, d1, ..., dk] with [N, d1, ..., dk]), or
    /// unbatched [C] with a 0-dim target. <paramref name="weight"/>, <paramref name="ignoreIndex"/> and
    /// <paramref name="reduction"/> act as in <see cref="NllLoss"/>.
    /// With <paramref name="labelSmoothing"/> ε ≤ 1 (PyTorch 1.13 rejects only ε &gt; 1; ε ≤ 0 means none) the loss is (1 − ε)·nll + (ε / C)·s where
    /// s = −Σ_c w_c·log p_c per position (w_c = 1 without weight), zero at ignored positions, reduced like nll:
    /// for "mean" s is summed and divided by the same denominator as nll (the summed weight of the non-ignored
    /// targets, or their count without weight). Differentiable with respect to input.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, LongTensor target, Tensor? weight = null, int ignoreIndex = -100, string reduction = "mean", float labelSmoothing = 0)
    {
        const string op = "cross_entropy";
        var red = ParseReduction(reduction, op);
        if (!(labelSmoothing <= 1)) // PyTorch 1.13 checks only the upper bound; a negative value means no smoothing
            throw new ArgumentException($"{op}: label_smoothing must be between 0.0 and 1.0. Got: {labelSmoothing}");
        var geo = ClassTargets.Check(input, target, weight, ignoreIndex, op);
        var logProbs = LogSoftmax(input, geo.ClassDim);
        var nll = NllLossCore(logProbs, target, weight, ignoreIndex, red, geo);
        if (labelSmoothing <= 0) return nll;

        var weighted = weight is null ? logProbs : logProbs * weight.Detach().Reshape(geo.ClassShape(input.Dim));
        var ignored = ClassTargets.IgnoredMask(target, ignoreIndex);
        var smooth = (-weighted.Sum([geo.ClassDim])).MaskedFill(ignored, 0f);
        var smoothReduced = red switch
        {
            LossReduction.None => smooth,
            LossReduction.Sum => smooth.Sum(),
            _ => smooth.Sum() / MeanDenominator(target, weight, ignoreIndex),
        };
        double eps = labelSmoothing;
        return nll * (float)(1 - eps) + smoothReduced * (float)(eps / geo.Classes);
    }

    /// <summary>The denominator of a "mean" class loss: summed weight (or count) of the non-ignored targets.</summary>
    private static float MeanDenominator(LongTensor target, Tensor? weight, long ignoreIndex)
    {
        var w = weight?.ToArray();
        double sum = 0;
        foreach (var t in target.Span)
            if (t != ignoreIndex) sum += w?[t] ?? 1f;
        return (float)sum;
    }
}
