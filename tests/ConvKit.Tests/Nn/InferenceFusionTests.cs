using ConvKit.Nn;
using Xunit;

namespace ConvKit.Tests.Nn;

/// <summary>
/// Conv → BatchNorm2d → ReLU fusion in inference: the same numbers as the three layers run one by one, and no fusion
/// wherever it would change behaviour (training, gradients, hooks, a batch norm without running statistics).
/// </summary>
[Collection(ConvKit.Tests.Kernels.ForceScalarCollection.Name)]
public class InferenceFusionTests
{
    /// <summary>A conv-BN-ReLU block in eval mode with non-trivial running statistics and affine parameters.</summary>
    private static (Sequential Block, Conv2d Conv, BatchNorm2d Bn, ReLU Relu) Block(int cIn, int cOut, int groups = 1, bool bias = true, int seed = 3)
    {
        var rng = new Random(seed);
        var conv = new Conv2d(cIn, cOut, 3, padding: 1, groups: groups, bias: bias);
        var bn = new BatchNorm2d(cOut);
        TestUtil.Random(rng, cOut).Span.CopyTo(bn.RunningMean!.Span);
        var v = TestUtil.Random(rng, cOut).ToArray().Select(a => 0.5f + Math.Abs(a)).ToArray();
        v.CopyTo(bn.RunningVar!.Span);
        TestUtil.Random(rng, cOut).Span.CopyTo(bn.Weight!.Span);
        TestUtil.Random(rng, cOut).Span.CopyTo(bn.Bias!.Span);
        var relu = new ReLU();
        var block = new Sequential(conv, bn, relu);
        block.Eval();
        return (block, conv, bn, relu);
    }

    private static float[] Unfused(Conv2d conv, BatchNorm2d bn, ReLU? relu, Tensor x)
    {
        var y = bn.Forward(conv.Forward(x));
        return (relu is null ? y : relu.Forward(y)).ToArray();
    }

    [Theory]
    [InlineData(ConvAlgorithm.Auto, 1, 16, 20)]
    [InlineData(ConvAlgorithm.Auto, 4, 8, 5)]        // small planes, images side by side
    [InlineData(ConvAlgorithm.Im2ColGemm, 1, 16, 20)]
    [InlineData(ConvAlgorithm.Reference, 2, 8, 9)]   // a path without a GEMM epilogue: the map runs after the kernel
    public void FusedBlockEqualsTheLayersOneByOne(ConvAlgorithm algorithm, int n, int channels, int size)
    {
        var (block, conv, bn, relu) = Block(channels, channels + 3);
        var x = TestUtil.Random(new Random(n), n, channels, size, size + 1);
        using var _ = Engine.Force(algorithm);
        using (Autograd.NoGrad())
        {
            int before = InferenceFusion.FusedCount;
            var y = block.Forward(x);
            Assert.Equal(before + 1, InferenceFusion.FusedCount);
            Assert.Equal(Unfused(conv, bn, relu, x), y.ToArray());
        }
    }

    [Fact]
    public void DepthwiseConvWithBatchNormAndConvWithReluAlone()
    {
        var (block, conv, bn, relu) = Block(8, 8, groups: 8, bias: false);
        var x = TestUtil.Random(new Random(9), 2, 8, 11, 13);
        using (Autograd.NoGrad())
        {
            Assert.Equal(Unfused(conv, bn, relu, x), block.Forward(x).ToArray());
            var convRelu = new Sequential(conv, relu);
            Assert.Equal(relu.Forward(conv.Forward(x)).ToArray(), convRelu.Forward(x).ToArray());
        }
    }

    [Fact]
    public void NothingIsFusedWhenAGradientCanBeNeeded()
    {
        var (block, conv, bn, relu) = Block(4, 6);
        var x = TestUtil.Random(new Random(1), 1, 4, 7, 7);
        int before = InferenceFusion.FusedCount;
        var y = block.Forward(x);                 // grad enabled, parameters require grad: the three ops are recorded
        Assert.Equal(before, InferenceFusion.FusedCount);
        Assert.True(y.RequiresGrad);
        y.Sum().Backward();
        Assert.NotNull(conv.Weight.Grad);
        Assert.NotNull(bn.Weight!.Grad);
    }

    [Fact]
    public void TrainingModeBatchNormIsNotFused()
    {
        var (block, _, bn, _) = Block(4, 6);
        block.Train();
        var before = bn.RunningMean!.ToArray();
        using (Autograd.NoGrad()) block.Forward(TestUtil.Random(new Random(2), 2, 4, 7, 7));
        Assert.NotEqual(before, bn.RunningMean!.ToArray()); // the batch statistics were used and tracked
    }

    [Fact]
    public void HooksSeeTheirModulesOwnOutputs()
    {
        var (block, conv, bn, relu) = Block(4, 6);
        var x = TestUtil.Random(new Random(4), 1, 4, 7, 7);
        Tensor? seen = null;
        using var hook = bn.RegisterForwardHook((_, _, output) => seen = output);
        using (Autograd.NoGrad())
        {
            var y = block.Forward(x);
            Assert.NotNull(seen);
            Assert.Equal(bn.Forward(conv.Forward(x)).ToArray(), seen!.ToArray());
            Assert.Equal(Unfused(conv, bn, relu, x), y.ToArray());
        }
    }
}
