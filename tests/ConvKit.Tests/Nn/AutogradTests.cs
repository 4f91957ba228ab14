using Xunit;

namespace ConvKit.Tests.Nn;

public class AutogradTests
{
    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var w = Tensor.FromArray([1, 2, 3], 3).RequiresGrad_();
        (w * w).Sum().Backward();
        (w * 3f).Sum().Backward();
        Assert.Equal(new float[] { 5, 7, 9 }, w.Grad!.ToArray());
    }

    [Fact]
    public void BackwardOnANonScalarNeedsAGradient()
    {
        var w = Tensor.Ones(2, 2).RequiresGrad_();
        var ex = Assert.Throws<InvalidOperationException>(() => (w * 2f).Backward());
        Assert.Contains("only for scalar outputs", ex.Message);
        (w * 2f).Backward(Tensor.Full([2, 2], 0.5f));
        Assert.Equal(new float[] { 1, 1, 1, 1 }, w.Grad!.ToArray());
    }

    [Fact]
    public void BackwardThroughAFreedGraphIsRefusedUnlessRetained()
    {
        var w = Tensor.Ones(3).RequiresGrad_();
        var loss = (w.Exp() * w).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", ex.Message);
    }

    [Fact]
    public void NoGradStopsRecordingAndDetachCutsTheGraph()
    {
        var w = Tensor.Ones(3).RequiresGrad_();
        using (Autograd.NoGrad())
            Assert.False((w * 2f).RequiresGrad);
        Assert.False((w.Detach() * 2f).RequiresGrad);
        Assert.True((w * 2f).RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => (w * 1f).Sum().Detach().Backward());
    }

    [Fact]
    public void InPlaceUpdateOfALeafThatRequiresGradIsRefusedOutsideNoGrad()
    {
        var w = Tensor.Ones(3).RequiresGrad_();
        Assert.Throws<InvalidOperationException>(() => w.Fill(0));
        using (Autograd.NoGrad()) w.Fill(2);
        Assert.Equal(new float[] { 2, 2, 2 }, w.ToArray());
    }

    [Fact]
    public void SharedSubexpressionsSumTheirGradients()
    {
        var x = Tensor.FromArray([2], 1).RequiresGrad_();
        var y = x * x;            // used twice below
        (y * y + y).Sum().Backward();   // d/dx (x^4 + x^2) = 4x^3 + 2x = 36
        Assert.Equal(36f, x.Grad!.Item());
    }
}
