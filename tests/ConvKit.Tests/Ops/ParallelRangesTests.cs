using System.Numerics.Tensors;
using Xunit;

namespace ConvKit.Tests.Ops;

/// <summary>
/// The element-wise passes, copies, gradient sums and plane reductions that split into parallel ranges above
/// <see cref="Parallelism.RangeGrain"/>: every element exactly once, and the same bits as one serial pass.
/// </summary>
public class ParallelRangesTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Parallelism.RangeGrain - 1)]
    [InlineData(2 * Parallelism.RangeGrain)]
    [InlineData(2 * Parallelism.RangeGrain + 1)]
    [InlineData(9 * Parallelism.RangeGrain + 13)]
    public void RangesCoverEveryElementOnceInWholeVectors(int length)
    {
        var hits = new int[length];
        int ranges = 0;
        Parallelism.Ranges(length, (start, n) =>
        {
            Interlocked.Increment(ref ranges);
            if (start + n < length) Assert.Equal(0, n % 16);
            for (int i = start; i < start + n; i++) Interlocked.Increment(ref hits[i]);
        });
        Assert.All(hits, h => Assert.Equal(1, h));
        if (length >= 2 * Parallelism.RangeGrain && Engine.Threads > 1) Assert.True(ranges > 1, $"{length} elements ran as {ranges} range");
    }

    [Fact]
    public void LargeElementwiseOpsAndCopiesMatchOneSerialPass()
    {
        var rng = new Random(5);
        var a = TestUtil.Random(rng, 16, 32, 28, 29);
        var b = TestUtil.Random(rng, 16, 32, 28, 29);
        float[] av = a.ToArray(), bv = b.ToArray();

        var sum = new float[av.Length];
        TensorPrimitives.Add(av, bv, sum);
        Assert.Equal(sum, (a + b).ToArray());
        var exp = new float[av.Length];
        TensorPrimitives.Exp(av, exp);
        Assert.Equal(exp, a.Exp().ToArray());

        // A broadcast operand: its rows run in parallel ranges of rows.
        var c = TestUtil.Random(rng, 1, 32, 1, 29);
        var cv = c.ToArray();
        var product = (a * c).ToArray();
        for (int i = 0; i < av.Length; i++)
        {
            int w = i % 29, ch = i / (28 * 29) % 32;
            Assert.Equal(av[i] * cv[ch * 29 + w], product[i]);
        }

        // A permuted view made contiguous: a strided copy in parallel ranges of rows.
        var permuted = a.Permute(0, 3, 1, 2).Contiguous();
        Assert.Equal(new[] { 16, 29, 32, 28 }, permuted.Sizes);
        var pv = permuted.ToArray();
        for (int n = 0; n < 16; n += 5)
        for (int w = 0; w < 29; w += 3)
        for (int ch = 0; ch < 32; ch += 7)
        for (int h = 0; h < 28; h++)
            Assert.Equal(av[((n * 32 + ch) * 28 + h) * 29 + w], pv[((n * 29 + w) * 32 + ch) * 28 + h]);
    }

    [Fact]
    public void GradientsSummedInPlaceMatchOneSerialAdd()
    {
        var rng = new Random(6);
        var x = TestUtil.Random(rng, 8, 64, 33, 31).RequiresGrad_();
        var g1 = TestUtil.Random(rng, x.Sizes.ToArray());
        var g2 = TestUtil.Random(rng, x.Sizes.ToArray());
        // x feeds two branches, so its gradient is summed from both, and the second backward accumulates into x.Grad.
        ((x * 2f) * g1 + x * g2).Sum().Backward();
        var once = x.Grad!.ToArray();
        ((x * 2f) * g1 + x * g2).Sum().Backward();
        float[] v1 = g1.ToArray(), v2 = g2.ToArray(), expected = new float[once.Length];
        for (int i = 0; i < expected.Length; i++) expected[i] = v1[i] * 2f + v2[i];
        Assert.Equal(expected, once);
        var twice = new float[once.Length];
        TensorPrimitives.Add(once, once, twice);
        Assert.Equal(twice, x.Grad!.ToArray());
    }

    [Theory]
    [InlineData(new[] { 64, 32, 28, 28 }, new[] { 2, 3 })]
    [InlineData(new[] { 6, 7, 90, 100 }, new[] { 1, 2, 3 })]
    [InlineData(new[] { 3000, 40 }, new[] { 1 })]
    public void TrailingSumsAndMeansAgreeBitwiseWithTheWalk(int[] shape, int[] dims)
    {
        var x = TestUtil.Random(new Random(7), shape);
        var sum = x.Sum(dims).ToArray();
        var mean = x.Mean(dims, keepDim: true).ToArray();
        float[] serialSum, serialMean;
        // Process-wide, but both settings give the same bits, so other tests running meanwhile are unaffected.
        Tensor.ParallelSums = false;
        try
        {
            serialSum = x.Sum(dims).ToArray();
            serialMean = x.Mean(dims, keepDim: true).ToArray();
        }
        finally { Tensor.ParallelSums = true; }
        Assert.Equal(serialSum, sum);
        Assert.Equal(serialMean, mean);
    }
}
