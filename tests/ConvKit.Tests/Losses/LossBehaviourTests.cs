using Xunit;
using static ConvKit.Tests.TestUtil;

namespace ConvKit.Tests.Losses;

/// <summary>Loss behaviour the golden cases cannot hold (NaN results, messages) and properties of the Dice loss.</summary>
public class LossBehaviourTests
{
    private static Tensor Logits(params int[] shape) => Tensor.Randn(shape, new Generator(7));
    private static LongTensor Targets(long[] values, params int[] shape) => LongTensor.FromArray(values, shape);

    [Fact]
    public void TargetOutOfRangeNamesTheValueAndTheRange() =>
        Rejects(() => F.CrossEntropy(Logits(2, 3), Targets([0, 3], 2)), "cross_entropy", "Target 3 is out of bounds", "[0, 3)", "ignoreIndex -100");

    [Fact]
    public void NegativeTargetOtherThanIgnoreIndexIsRejected() =>
        Rejects(() => F.NllLoss(Logits(2, 3), Targets([-1, 0], 2)), "nll_loss", "Target -1 is out of bounds");

    [Fact]
    public void TargetShapeMustBeInputWithoutClassDim() =>
        Rejects(() => F.CrossEntropy(Logits(2, 3, 4, 4), Targets(new long[2 * 4 * 5], 2, 4, 5)), "cross_entropy", "[2, 3, 4, 4]", "expects a target of shape [2, 4, 4]", "got [2, 4, 5]");

    [Fact]
    public void ClassWeightMustHaveOneEntryPerClass() =>
        Rejects(() => F.CrossEntropy(Logits(2, 3), Targets([0, 1], 2), weight: Tensor.Ones(2)), "cross_entropy", "3 classes", "[2]");

    [Fact]
    public void UnknownReductionIsRejected() =>
        Rejects(() => F.MseLoss(Logits(3), Logits(3), reduction: "avg"), "mse_loss", "\"mean\", \"sum\" or \"none\"", "\"avg\"");

    [Fact]
    public void LabelSmoothingAboveOneIsRejected() =>
        Rejects(() => F.CrossEntropy(Logits(2, 3), Targets([0, 1], 2), labelSmoothing: 1.5f), "label_smoothing", "1.5");

    [Fact]
    public void NegativeLabelSmoothingMeansNoSmoothingAsInPyTorch113()
    {
        var x = Logits(4, 5);
        var t = Targets([0, 4, 2, 1], 4);
        Assert.Equal(F.CrossEntropy(x, t).Item(), F.CrossEntropy(x, t, labelSmoothing: -0.25f).Item());
    }

    [Fact]
    public void BceTargetMustMatchInput() =>
        Rejects(() => F.BinaryCrossEntropyWithLogits(Logits(2, 3), Logits(2, 4)), "binary_cross_entropy_with_logits", "Target size ([2, 4])", "input size ([2, 3])");

    [Fact]
    public void BcePosWeightMustBroadcastToInput() =>
        Rejects(() => F.BinaryCrossEntropyWithLogits(Logits(2, 3), Logits(2, 3), posWeight: Tensor.Ones(2, 2, 3)), "pos_weight", "[2, 2, 3]", "[2, 3]");

    [Fact]
    public void MseShapesMustBroadcast() => Rejects(() => F.MseLoss(Logits(2, 3), Logits(2, 4)), "mse_loss");

    [Fact]
    public void DiceNeedsBatchAndClassDims() => Rejects(() => F.DiceLoss(Logits(3), Targets([1], [])), "dice_loss", "[N, C, H, W]", "[3]");

    [Fact]
    public void MeanOverOnlyIgnoredTargetsIsNaNAndSumIsZero()
    {
        var x = Logits(2, 3);
        var t = Targets([-100, -100], 2);
        Assert.True(float.IsNaN(F.CrossEntropy(x, t).Item()));
        Assert.True(float.IsNaN(F.CrossEntropy(x, t, labelSmoothing: 0.1f).Item()));
        Assert.Equal(0f, F.CrossEntropy(x, t, reduction: "sum").Item());
    }

    [Fact]
    public void UnbatchedInputWithoutReductionGivesAScalar()
    {
        var loss = F.CrossEntropy(Logits(5), Targets([2], []), reduction: "none");
        Assert.Empty(loss.Shape);
    }

    [Fact]
    public void HugeLogitsStayFinite()
    {
        var x = Tensor.FromArray([1000f, -1000f, 0f, 500f, 500f, -500f], 2, 3).RequiresGrad_();
        var loss = F.CrossEntropy(x, Targets([1, 2], 2), labelSmoothing: 0.1f);
        loss.Backward();
        Assert.True(float.IsFinite(loss.Item()));
        Assert.All(x.Grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.True(float.IsFinite(F.BinaryCrossEntropyWithLogits(Tensor.FromArray([200f, -200f], 2), Tensor.FromArray([0f, 1f], 2)).Item()));
    }

    [Fact]
    public void DiceOfAConfidentCorrectPredictionIsNearZero()
    {
        var t = Targets([0, 1, 2, 1], 1, 2, 2);
        var x = Tensor.Zeros(1, 3, 2, 2);
        for (int p = 0; p < 4; p++) x[0, (int)t.ToArray()[p], p / 2, p % 2] = 30f;
        Assert.True(F.DiceLoss(x, t, smooth: 0).Item() < 1e-6);
    }

    [Fact]
    public void DiceIgnoresLogitsAtIgnoredPixels()
    {
        var t = Targets([0, -100, 2, 1], 1, 2, 2);
        var x = Logits(1, 3, 2, 2);
        var y = x.Clone();
        y[0, 0, 0, 1] = 9f;
        y[0, 2, 0, 1] = -9f;
        Assert.Equal(F.DiceLoss(x, t).Item(), F.DiceLoss(y, t).Item());
    }
}
