using Xunit;

namespace ConvKit.Tests.Ops;

/// <summary>
/// A gate with one value per plane ([N, C, 1, 1] on [N, C, H, W], either operand order) multiplies through
/// PlaneScale: the same product as the broadcasting path, the same input gradient, and a gate gradient equal to
/// the per-plane sum of g·x computed in double.
/// </summary>
public class PlaneScaleTests
{
    public static IEnumerable<object[]> Shapes() =>
    [
        [new[] { 3, 5, 7, 6 }, new[] { 3, 5, 1, 1 }],
        [new[] { 2, 4, 9, 11 }, new[] { 2, 4, 9, 1 }],   // one value per row
        [new[] { 6, 33 }, new[] { 6, 1 }],
    ];

    [Theory, MemberData(nameof(Shapes))]
    public void GateTimesPlanesMatchesTheBroadcastProductAndItsGradients(int[] shape, int[] gateShape)
    {
        var rng = new Random(3);
        var x = TestUtil.Random(rng, shape).RequiresGrad_();
        var s = TestUtil.Random(rng, gateShape).RequiresGrad_();
        Assert.True(PlaneScale.Planes(x, s) > 0);
        var g = TestUtil.Random(rng, shape);
        foreach (bool gateFirst in new[] { false, true })
        {
            x.Grad = null;
            s.Grad = null;
            var y = gateFirst ? s * x : x * s;
            // The broadcasting product, element by element.
            var xv = x.ToArray(); var sv = s.ToArray(); var gv = g.ToArray();
            int len = xv.Length / sv.Length;
            Assert.Equal(xv.Select((v, i) => v * sv[i / len]), y.ToArray());
            y.Backward(g);
            Assert.Equal(gv.Select((v, i) => v * sv[i / len]), x.Grad!.ToArray());
            var ds = s.Grad!.ToArray();
            for (int p = 0; p < sv.Length; p++)
            {
                double exact = 0, magnitude = 0;
                for (int j = 0; j < len; j++) { exact += (double)gv[p * len + j] * xv[p * len + j]; magnitude += Math.Abs((double)gv[p * len + j] * xv[p * len + j]); }
                Assert.True(Math.Abs(ds[p] - exact) <= 1e-6 * magnitude + 1e-7, $"plane {p}: {ds[p]} against {exact}");
            }
        }
    }

    [Fact]
    public void OtherBroadcastsKeepTheGeneralPath()
    {
        var x = Tensor.Ones(2, 3, 4, 4);
        Assert.Equal(0, PlaneScale.Planes(x, Tensor.Ones(1, 3, 1, 1)));   // shared over the batch
        Assert.Equal(0, PlaneScale.Planes(x, Tensor.Ones(2, 3, 4, 4)));   // element-wise
        Assert.Equal(0, PlaneScale.Planes(x, Tensor.Ones(3, 1, 1)));      // lower rank
        Assert.Equal(0, PlaneScale.Planes(x.Transpose(2, 3), Tensor.Ones(2, 3, 1, 1)));  // not contiguous
        var y = x.Transpose(2, 3) * Tensor.Full([2, 3, 1, 1], 2f);
        Assert.All(y.ToArray(), v => Assert.Equal(2f, v));
    }
}
