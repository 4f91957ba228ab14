using Xunit;
using static ConvKit.Tests.TestUtil;

namespace ConvKit.Tests.Tutorials;

/// <summary>The worked examples of the tutorials in shared/reference, with their printed numbers.</summary>
public class TutorialExampleTests
{
    private static readonly float[,] K2 = { { 0, 1 }, { 2, 3 } };

    // 001: X = [[0..8], [1..9]] as two 3×3 channels, K = [[[0,1],[2,3]], [[1,2],[3,4]]].
    private static Tensor X001() => Tensor.FromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2, 3, 3);
    private static Tensor K001() => Tensor.FromArray([0, 1, 2, 3, 1, 2, 3, 4], 1, 2, 2, 2);

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void MultiInputChannelCrossCorrelation(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var y = F.Conv2d(X001(), K001());
        Assert.Equal(new[] { 1, 2, 2 }, y.Shape.ToArray());
        Equal(new float[,] { { 56, 72 }, { 104, 120 } }, y.Squeeze(0));
    }

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void MultiOutputChannelsStackKPlusOneAndTwo(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var k = K001().Squeeze(0);
        var stacked = Tensor.Stack([k, k + 1, k + 2]);
        Assert.Equal(new[] { 3, 2, 2, 2 }, stacked.Shape.ToArray());
        var y = F.Conv2d(X001(), stacked);
        Equal(new float[,] { { 56, 72 }, { 104, 120 } }, y.Select(0, 0));
        Equal(new float[,] { { 76, 100 }, { 148, 172 } }, y.Select(0, 1));
        Equal(new float[,] { { 96, 128 }, { 192, 224 } }, y.Select(0, 2));
    }

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void OneByOneConvolutionIsAMatrixProductOverChannels(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var g = new Generator(0);
        var x = Tensor.Rand([3, 3, 3], g);
        var k = Tensor.Rand([2, 3, 1, 1], g);
        var viaConv = F.Conv2d(x, k);
        var viaMatmul = k.Reshape(2, 3).Matmul(x.Reshape(3, 9)).Reshape(2, 3, 3);
        Close(viaMatmul.ToArray(), viaConv.ToArray(), 1e-6);
    }

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void TransposedConvolutionByScatter(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var x = T(K2).Reshape(1, 1, 2, 2);
        var k = T(K2).Reshape(1, 1, 2, 2);
        Equal(new float[,] { { 0, 0, 1 }, { 0, 4, 6 }, { 4, 12, 9 } }, F.ConvTranspose2d(x, k).Reshape(3, 3));
        Equal(new float[,] { { 4 } }, F.ConvTranspose2d(x, k, padding: 1).Reshape(1, 1));
        Equal(new float[,] { { 0, 0, 0, 1 }, { 0, 0, 2, 3 }, { 0, 2, 0, 3 }, { 4, 6, 6, 9 } }, F.ConvTranspose2d(x, k, stride: 2).Reshape(4, 4));
    }

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void ConvThenTransposedConvRestoresTheShape(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var g = new Generator(1);
        var x = Tensor.Rand([1, 10, 16, 16], g);
        var w1 = Tensor.Randn([20, 10, 5, 5], g);
        var w2 = Tensor.Randn([20, 10, 5, 5], g);
        var y = F.Conv2d(x, w1, padding: 2, stride: 3);
        Assert.Equal(new[] { 1, 20, 6, 6 }, y.Shape.ToArray());
        Assert.Equal(new[] { 1, 10, 16, 16 }, F.ConvTranspose2d(y, w2, padding: 2, stride: 3).Shape.ToArray());
    }

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void ConvolutionAsMatrixAndItsTranspose(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var x = Tensor.Arange(9).Reshape(1, 1, 3, 3);
        var k = Tensor.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var y = F.Conv2d(x, k);
        Equal(new float[,] { { 27, 37 }, { 57, 67 } }, y.Reshape(2, 2));
        var z = F.ConvTranspose2d(y, k);
        Equal(new float[,] { { 27, 91, 74 }, { 138, 400, 282 }, { 171, 429, 268 } }, z.Reshape(3, 3));

        var w = ConvMatrix.ForConv2d(k, 3, 3);
        Assert.Equal(new[] { 4, 9 }, w.Shape.ToArray());
        Equal(new float[,] { { 1, 2, 0, 3, 4, 0, 0, 0, 0 }, { 0, 1, 2, 0, 3, 4, 0, 0, 0 }, { 0, 0, 0, 1, 2, 0, 3, 4, 0 }, { 0, 0, 0, 0, 1, 2, 0, 3, 4 } }, w);
        Close(y.ToArray(), w.Matmul(x.Reshape(9)).ToArray(), 1e-6, "W·x");
        Close(z.ToArray(), w.T().Matmul(y.Reshape(4)).ToArray(), 1e-6, "Wᵀ·y");
        Close(w.T().Contiguous().ToArray(), ConvMatrix.ForConvTranspose2d(k, 2, 2).ToArray(), 0, "transposed-conv matrix");
    }

    private static readonly float[] Input5 = [1, 2, 0, 3, 1, 0, 1, 2, 3, 1, 1, 2, 1, 0, 0, 5, 2, 3, 1, 1, 2, 1, 0, 1, 1];
    private static readonly float[] Kernel3 = [1, 2, 1, 0, 1, 0, 2, 1, 0];

    [Theory, MemberData(nameof(AlgorithmData), MemberType = typeof(TestUtil))]
    public void StrideAndPaddingOnTheFiveByFiveExample(ConvAlgorithm algorithm)
    {
        using var _ = Engine.Force(algorithm);
        var x = Tensor.FromArray(Input5, 1, 1, 5, 5);
        var k = Tensor.FromArray(Kernel3, 1, 1, 3, 3);
        Equal(new float[,] { { 10, 12, 12 }, { 18, 16, 16 }, { 13, 9, 3 } }, F.Conv2d(x, k, stride: 1).Reshape(3, 3));
        Equal(new float[,] { { 10, 12 }, { 13, 3 } }, F.Conv2d(x, k, stride: 2).Reshape(2, 2));
        Equal(new float[,] { { 1, 3, 4, 10, 8 }, { 5, 10, 12, 12, 6 }, { 7, 18, 16, 16, 8 }, { 11, 13, 9, 3, 4 }, { 14, 13, 9, 7, 4 } },
              F.Conv2d(x, k, padding: 1).Reshape(5, 5));
    }

    [Fact]
    public void OutputShapesOfTheChannelTutorials()
    {
        var x = Tensor.Zeros(1, 3, 28, 28);
        var w = Tensor.Zeros(16, 3, 5, 5);
        Assert.Equal(new[] { 1, 16, 26, 26 }, F.Conv2d(x, w, padding: 1).Shape.ToArray());
        Assert.Equal(new[] { 1, 16, 14, 14 }, F.Conv2d(x, w, stride: 2, padding: 2).Shape.ToArray());
        Assert.Equal(new[] { 1, 16, 24, 24 }, F.Conv2d(x, w).Shape.ToArray());
        Assert.Equal(new[] { 1, 4, 8, 8 }, F.Conv2d(Tensor.Zeros(1, 1, 28, 28), Tensor.Zeros(4, 1, 7, 7), stride: 3).Shape.ToArray());
    }
}
