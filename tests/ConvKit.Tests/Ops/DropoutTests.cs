using Xunit;

namespace ConvKit.Tests.Ops;

public class DropoutTests
{
    [Fact]
    public void DropsTheRequestedFractionScalesTheRestAndRoutesGradientsThroughTheSameMask()
    {
        var x = Tensor.Ones(200_000).RequiresGrad_();
        var y = F.Dropout(x, 0.3, training: true, generator: new Generator(11));
        var v = y.ToArray();
        double dropped = v.Count(e => e == 0) / (double)v.Length;
        Assert.InRange(dropped, 0.29, 0.31);
        Assert.All(v.Where(e => e != 0), e => Assert.Equal(1f / 0.7f, e, 5));
        y.Sum().Backward();
        Assert.Equal(v, x.Grad!.ToArray());   // d(sum)/dx is exactly the scaled mask
    }

    [Fact]
    public void EvaluationModeAndZeroProbabilityAreTheIdentityAndOneDropsEverything()
    {
        var x = Tensor.Randn([3, 4], new Generator(1));
        Assert.Same(x, F.Dropout(x, 0.5, training: false));
        Assert.Same(x, F.Dropout(x, 0.0));
        Assert.All(F.Dropout(x, 1.0).ToArray(), e => Assert.Equal(0f, e));
        Assert.Equal(F.Dropout(x, 0.5, generator: new Generator(4)).ToArray(), F.Dropout(x, 0.5, generator: new Generator(4)).ToArray());
    }
}
