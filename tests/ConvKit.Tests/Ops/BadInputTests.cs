using Xunit;
using static ConvKit.Tests.TestUtil;

namespace ConvKit.Tests.Ops;

/// <summary>Invalid calls raise ArgumentException naming the op, what was expected and what came.</summary>
public class BadInputTests
{
    [Fact]
    public void Conv2dNamesTheWeightAndTheChannelMismatch() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 4, 28, 28), Tensor.Zeros(16, 3, 5, 5)),
            "conv2d", "weight of size [16, 3, 5, 5]", "expected input[1, 4, 28, 28] to have 3 channels, but got 4 channels instead");

    [Fact]
    public void Conv2dRejectsWrongRank() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(3, 28), Tensor.Zeros(16, 3, 5, 5)), "conv2d", "3D (unbatched) or 4D (batched)", "[3, 28]");

    [Fact]
    public void Conv2dRejectsChannelsNotMatchingWeightTimesGroups() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 6, 8, 8), Tensor.Zeros(4, 2, 3, 3), groups: 2), "groups=2", "to have 4 channels, but got 6");

    [Fact]
    public void Conv2dRejectsOutputChannelsNotDivisibleByGroups() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 4, 8, 8), Tensor.Zeros(3, 2, 3, 3), groups: 2), "divisible by 2", "[3, 2, 3, 3]");

    [Fact]
    public void Conv2dRejectsKernelLargerThanPaddedInput() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 1, 3, 3), Tensor.Zeros(1, 1, 5, 5)), "(3 x 3)", "Kernel size: (5 x 5)", "can't be greater");

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Conv2dRejectsNonPositiveStride(int stride) =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), stride: stride), "conv2d", "stride");

    [Fact]
    public void SamePaddingWithStrideIsRejected() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), stride: 2, padding: "same"), "padding='same'", "strided");

    [Fact]
    public void UnknownPaddingStringIsRejected() =>
        Rejects(() => F.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), padding: "full"), "'full'", "'valid', 'same'");

    [Fact]
    public void ConvTransposeRejectsOutputPaddingNotSmallerThanStrideOrDilation() =>
        Rejects(() => F.ConvTranspose2d(Tensor.Zeros(1, 2, 4, 4), Tensor.Zeros(2, 3, 3, 3), stride: 2, outputPadding: 2),
            "conv_transpose2d", "output padding must be smaller than either stride or dilation", "output_padding_height: 2");

    [Fact]
    public void ConvTransposeNamesTheChannelMismatch() =>
        Rejects(() => F.ConvTranspose2d(Tensor.Zeros(1, 16, 16, 16), Tensor.Zeros(20, 10, 5, 5)),
            "weight of size [20, 10, 5, 5]", "to have 20 channels, but got 16");

    [Fact]
    public void ReshapeToIncompatibleSizeIsRejected() =>
        Rejects(() => Tensor.Zeros(2, 3).Reshape(4, 2), "Reshape", "[4, 2]", "size 6");

    [Fact]
    public void PoolingRejectsPaddingOverHalfTheKernel() =>
        Rejects(() => F.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 3, padding: 2), "max_pool2d", "half of kernel size");

    [Fact]
    public void MatmulNamesBothShapes() =>
        Rejects(() => Tensor.Zeros(2, 3).Matmul(Tensor.Zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");

    [Fact]
    public void BatchNormNeedsMoreThanOneValuePerChannelInTraining() =>
        Rejects(() => F.BatchNorm(Tensor.Zeros(1, 3), Tensor.Zeros(3), Tensor.Ones(3), training: true), "more than 1 value per channel", "[1, 3]");

    [Fact]
    public void DropoutProbabilityMustBeInRange() =>
        Rejects(() => F.Dropout(Tensor.Zeros(3), 1.5), "dropout", "between 0 and 1", "1.5");
}

public class PoolingEdgeTests
{
    [Fact]
    public void AWindowWhollyInThePaddingGivesMinusInfinityAndNoGradient()
    {
        // kernel 2, dilation 3, padding 1 on height 2: the only window row has taps at rows −1 and 2, both outside.
        // PyTorch 1.13: max_pool2d(x, (2, 1), 1, (1, 0), (3, 1), return_indices=True) = ([[-inf, -inf]], [[4, 5]]).
        var x = Tensor.FromArray([1, 2, 3, 4], 1, 1, 2, 2).RequiresGrad_();
        var (y, idx) = F.MaxPool2dWithIndices(x, kernelSize: (2, 1), stride: 1, padding: (1, 0), dilation: (3, 1));
        Assert.Equal(new[] { 1, 1, 1, 2 }, y.Shape.ToArray());
        Assert.Equal(new float[] { float.NegativeInfinity, float.NegativeInfinity }, y.ToArray());
        Assert.Equal(new long[] { 4, 5 }, idx.ToArray());
        y.Sum().Backward();
        Assert.Equal(new float[] { 0, 0, 0, 0 }, x.Grad!.ToArray());
    }
}
