using Xunit;

namespace ConvKit.Tests.Golden;

/// <summary>Every PyTorch golden case, one test each; convolution families run under every algorithm.</summary>
public class GoldenTests
{
    public static IEnumerable<object[]> Conv2d => GoldenFixtures.Cases("conv2d");
    public static IEnumerable<object[]> ConvTranspose2d => GoldenFixtures.Cases("conv_transpose2d");
    public static IEnumerable<object[]> Unfold => GoldenFixtures.Cases("unfold_fold");
    public static IEnumerable<object[]> Pool => GoldenFixtures.Cases("pool");
    public static IEnumerable<object[]> Interpolate => GoldenFixtures.Cases("interpolate");
    public static IEnumerable<object[]> BatchNorm => GoldenFixtures.Cases("batch_norm");
    public static IEnumerable<object[]> Pad => GoldenFixtures.Cases("pad");
    public static IEnumerable<object[]> Activation => GoldenFixtures.Cases("activation");
    public static IEnumerable<object[]> Linear => GoldenFixtures.Cases("linear");
    public static IEnumerable<object[]> Elementwise => GoldenFixtures.Cases("elementwise");
    public static IEnumerable<object[]> Reduction => GoldenFixtures.Cases("reduction");
    public static IEnumerable<object[]> Matmul => GoldenFixtures.Cases("matmul");
    public static IEnumerable<object[]> Views => GoldenFixtures.Cases("views");

    private static void UnderEveryAlgorithm(GoldenCase c)
    {
        foreach (var algorithm in TestUtil.Algorithms)
            using (Engine.Force(algorithm))
                GoldenRunner.Check(c);
    }

    [Theory, MemberData(nameof(Conv2d))] public void Conv2dMatchesPyTorch(GoldenCase c) => UnderEveryAlgorithm(c);
    [Theory, MemberData(nameof(ConvTranspose2d))] public void ConvTranspose2dMatchesPyTorch(GoldenCase c) => UnderEveryAlgorithm(c);
    [Theory, MemberData(nameof(Unfold))] public void UnfoldFoldMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Pool))] public void PoolingMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Interpolate))] public void InterpolateMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(BatchNorm))] public void BatchNormMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Pad))] public void PadMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Activation))] public void ActivationMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Linear))] public void LinearMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Elementwise))] public void ElementwiseMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Reduction))] public void ReductionMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Matmul))] public void MatmulMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
    [Theory, MemberData(nameof(Views))] public void ViewsMatchPyTorch(GoldenCase c) => GoldenRunner.Check(c);
}
