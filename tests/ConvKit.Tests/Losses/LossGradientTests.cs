using Xunit;

namespace ConvKit.Tests.Losses;

/// <summary>
/// Each loss's backward against central differences of its forward (float32 forward, differences taken in double),
/// on small cases with every option switched on.
/// </summary>
public class LossGradientTests
{
    private static Tensor Random(int seed, double lo, double hi, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Checks d⟨loss(x), g⟩/dx from Backward against (f(x + h) − f(x − h)) / 2h per element.</summary>
    private static void MatchesFiniteDifferences(Tensor x, Func<Tensor, Tensor> loss, double h = 1e-2, double tol = 2e-3)
    {
        var input = x.Clone().Detach().RequiresGrad_();
        var y = loss(input);
        var g = Random(99, -1, 1, y.Shape.ToArray());
        (y * g).Sum().Backward();
        var analytic = input.Grad!.ToArray();
        var data = x.ToArray();
        double F(float[] d) { using var _ = Autograd.NoGrad(); return (loss(Tensor.FromArray(d, x.Shape.ToArray())) * g).Sum().Item(); }
        for (int i = 0; i < data.Length; i++)
        {
            var plus = (float[])data.Clone();
            var minus = (float[])data.Clone();
            plus[i] += (float)h;
            minus[i] -= (float)h;
            double numeric = (F(plus) - F(minus)) / ((double)plus[i] - minus[i]);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tol * Math.Max(1, Math.Abs(numeric)),
                $"element {i}: backward {analytic[i]}, central difference {numeric}");
        }
    }

    private static readonly LongTensor SegTarget = LongTensor.FromArray(new long[] { 0, 2, -100, 1, 2, 2, 0, -100 }, 2, 2, 2);

    [Theory]
    [InlineData("mean", 0f)]
    [InlineData("mean", 0.2f)]
    [InlineData("sum", 0.1f)]
    [InlineData("none", 0.3f)]
    public void CrossEntropyWithWeightIgnoreAndSmoothing(string reduction, float smoothing) =>
        MatchesFiniteDifferences(Random(1, -2, 2, 2, 3, 2, 2),
            x => F.CrossEntropy(x, SegTarget, Tensor.FromArray([0.5f, 2f, 1f], 3), reduction: reduction, labelSmoothing: smoothing));

    [Fact]
    public void CrossEntropyUnbatched() =>
        MatchesFiniteDifferences(Random(2, -2, 2, 5), x => F.CrossEntropy(x, LongTensor.FromArray(new long[] { 3 }), labelSmoothing: 0.1f));

    [Theory]
    [InlineData("mean")]
    [InlineData("none")]
    public void NllLoss(string reduction) =>
        MatchesFiniteDifferences(Random(3, -3, 0, 4, 3),
            x => F.NllLoss(x, LongTensor.FromArray(new long[] { 2, 0, 1, 1 }, 4), Tensor.FromArray([1f, 0.25f, 3f], 3), ignoreIndex: 0, reduction: reduction));

    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void BinaryCrossEntropyWithLogitsWithWeights(string reduction) =>
        MatchesFiniteDifferences(Random(4, -4, 4, 2, 3, 2),
            x => F.BinaryCrossEntropyWithLogits(x, Random(5, 0, 1, 2, 3, 2), Random(6, 0.5, 2, 3, 1), Random(7, 0.5, 3, 2), reduction));

    [Fact]
    public void MseLossBroadcasting() =>
        MatchesFiniteDifferences(Random(8, -1, 1, 3, 4), x => F.MseLoss(x, Random(9, -1, 1, 4)));

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(0f)]
    public void DiceLoss(float smooth) =>
        MatchesFiniteDifferences(Random(10, -2, 2, 2, 3, 2, 2), x => F.DiceLoss(x, SegTarget, smooth));
}
