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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormThenReluUnderGradientsIsOneOpWithTheSameNumbersAndGradients(bool training)
    {
        var (fused, conv, bn, relu) = Block(4, 6, seed: 7);
        var (plain, conv2, bn2, relu2) = Block(4, 6, seed: 7);
        conv.Weight.Span.CopyTo(conv2.Weight.Span);
        conv.Bias!.Span.CopyTo(conv2.Bias!.Span);
        if (training) { fused.Train(); plain.Train(); }
        var x = TestUtil.Random(new Random(8), 3, 4, 9, 9).RequiresGrad_();
        var x2 = x.Detach().Clone().RequiresGrad_();
        int before = InferenceFusion.BatchNormReluCount;
        var y = fused.Forward(x);
        Assert.Equal(before + 1, InferenceFusion.BatchNormReluCount);
        var y2 = relu2.Forward(bn2.Forward(conv2.Forward(x2)));
        Assert.Equal(y2.ToArray(), y.ToArray());
        Assert.Contains(y.ToArray(), v => v == 0f);   // some outputs are clipped, so the mask matters
        var g = TestUtil.Random(new Random(9), 3, 6, 9, 9);
        y.Backward(g);
        y2.Backward(g);
        Assert.Equal(x2.Grad!.ToArray(), x.Grad!.ToArray());
        Assert.Equal(conv2.Weight.Grad!.ToArray(), conv.Weight.Grad!.ToArray());
        Assert.Equal(bn2.Weight!.Grad!.ToArray(), bn.Weight!.Grad!.ToArray());
        Assert.Equal(bn2.Bias!.Grad!.ToArray(), bn.Bias!.Grad!.ToArray());
        Assert.Equal(bn2.RunningMean!.ToArray(), bn.RunningMean!.ToArray());
        Assert.Equal(bn2.RunningVar!.ToArray(), bn.RunningVar!.ToArray());
    }

    [Fact]
    public void AHookOnTheReluKeepsBatchNormAndReluApart()
    {
        var (block, _, _, relu) = Block(4, 6);
        block.Train();
        Tensor? input = null;
        using var hook = relu.RegisterForwardHook((_, i, _) => input = i);
        int before = InferenceFusion.BatchNormReluCount;
        block.Forward(TestUtil.Random(new Random(5), 2, 4, 7, 7));
        Assert.Equal(before, InferenceFusion.BatchNormReluCount);
        Assert.Contains(input!.ToArray(), v => v < 0f);  // the hook saw the batch norm's own, unclipped output
    }
}
