namespace ConvKit.Tests.Golden;

/// <summary>Maps the training golden cases (losses, loss.json.gz) to ConvKit calls; <see cref="GoldenOps"/> falls back to it.</summary>
public static class GoldenTrainOps
{
    /// <summary>The op's outputs, or null when the op is not a training op.</summary>
    public static IReadOnlyList<object>? Run(GoldenCase c, Dictionary<string, Tensor?> t)
    {
        Tensor X() => t["input"]!;
        Tensor? Opt(string name) => t.TryGetValue(name, out var v) ? v : null;
        LongTensor ClassTarget() { var g = c.Input("target")!; return LongTensor.FromArray(g.Ints!, g.Shape); }
        string Reduction() => c.String("reduction") ?? "mean";
        int IgnoreIndex() => c.IntOrNull("ignore_index") ?? -100;

        return c.Op switch
        {
            "cross_entropy" => [F.CrossEntropy(X(), ClassTarget(), Opt("weight"), IgnoreIndex(), Reduction(), (float)(c.DoubleOrNull("label_smoothing") ?? 0))],
            "nll_loss" => [F.NllLoss(X(), ClassTarget(), Opt("weight"), IgnoreIndex(), Reduction())],
            "binary_cross_entropy_with_logits" => [F.BinaryCrossEntropyWithLogits(X(), t["target"]!, Opt("weight"), Opt("pos_weight"), Reduction())],
            "mse_loss" => [F.MseLoss(X(), t["target"]!, Reduction())],
            "dice_loss" => [F.DiceLoss(X(), ClassTarget(), (float)c.Double("smooth"), IgnoreIndex())],
            _ => null,
        };
    }
}
