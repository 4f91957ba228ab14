namespace ConvKit;

/// <summary>How a loss reduces its per-element values, as the <c>reduction</c> argument of <c>torch.nn.functional</c> losses.</summary>
internal enum LossReduction { None, Mean, Sum }

public static partial class F
{
    internal static LossReduction ParseReduction(string reduction, string op) => reduction switch
    {
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        "none" => LossReduction.None,
        _ => throw new ArgumentException($"{op}: reduction must be \"mean\", \"sum\" or \"none\", got \"{reduction}\""),
    };

    private static Tensor Reduce(Tensor loss, LossReduction reduction) => reduction switch
    {
        LossReduction.Mean => loss.Mean(),
        LossReduction.Sum => loss.Sum(),
        _ => loss,
    };

    /// <summary>
    /// Squared error (input − target)², reduced by <paramref name="reduction"/> ("mean", "sum" or "none"), as
    /// <c>torch.nn.functional.mse_loss</c>. <paramref name="input"/> and <paramref name="target"/> broadcast against
    /// each other (PyTorch warns when their shapes differ); "none" returns the broadcast shape. Differentiable with
    /// respect to both.
    /// </summary>
    public static Tensor MseLoss(Tensor input, Tensor target, string reduction = "mean")
    {
        var red = ParseReduction(reduction, "mse_loss");
        ShapeUtil.Broadcast(input.Sizes, target.Sizes, "mse_loss");
        return Reduce((input - target).Pow(2f), red);
    }

    /// <summary>
    /// Binary cross-entropy on logits, as <c>torch.nn.functional.binary_cross_entropy_with_logits</c>:
    /// ℓ = −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))] with p = <paramref name="posWeight"/> (1 when null) and
    /// w = <paramref name="weight"/> (1 when null), computed stably as
    /// (1 − y)·x + (1 + (p − 1)·y)·(log(e^−m + e^(−x−m)) + m) with m = max(−x, 0).
    /// <paramref name="input"/> and <paramref name="target"/> have the same shape (any, e.g. [N, C] or [N, C, H, W]);
    /// <paramref name="weight"/> and <paramref name="posWeight"/> broadcast to it (posWeight is typically [C], or
    /// [C, 1, 1] for [N, C, H, W]). Reduced by "mean", "sum" or "none". Differentiable with respect to input.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, string reduction = "mean")
    {
        const string op = "binary_cross_entropy_with_logits";
        var red = ParseReduction(reduction, op);
        if (!ShapeUtil.SameShape(input.Sizes, target.Sizes))
            throw new ArgumentException($"{op}: Target size ({ShapeUtil.Format(target.Sizes)}) must be the same as input size ({ShapeUtil.Format(input.Sizes)})");
        CheckBroadcastsTo(weight, input, "weight", op);
        CheckBroadcastsTo(posWeight, input, "pos_weight", op);
        Tensor x = input.Detach(), y = target.Detach();
        Tensor? w = weight?.Detach(), pw = posWeight?.Detach();
        Tensor loss;
        using (Autograd.NoGrad())
        {
            var maxVal = (-x).Clamp(min: 0f);
            var logTerm = ((-maxVal).Exp() + (-x - maxVal).Exp()).Log();
            loss = pw is null
                ? (1f - y) * x + maxVal + logTerm
                : (1f - y) * x + ((pw - 1f) * y + 1f) * (logTerm + maxVal);
            if (w is not null) loss *= w;
        }
        loss = Autograd.Record(loss, input, g =>
        {
            Tensor gi;
            if (pw is null) gi = Sigmoid(x) - y;
            else
            {
                var t = pw * y;
                gi = (t + 1f - y) * Sigmoid(x) - t;
            }
            gi *= g;
            return w is null ? gi : gi * w;
        });
        return Reduce(loss, red);
    }

    private static void CheckBroadcastsTo(Tensor? t, Tensor input, string name, string op)
    {
        if (t is null) return;
        var shape = ShapeUtil.Broadcast(input.Sizes, t.Sizes, op);
        if (!ShapeUtil.SameShape(shape, input.Sizes))
            throw new ArgumentException($"{op}: {name} of shape {ShapeUtil.Format(t.Sizes)} must broadcast to the input shape {ShapeUtil.Format(input.Sizes)}");
    }
}
