using Xunit;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Sums over every dim but the channel dim of [N, C, …] (a conv's bias gradient, a batch mean) run their channels in
/// parallel: the same bits as the serial strided walk, within float rounding of a double-precision sum, on offsets,
/// 3-D to 5-D shapes, a unit plane and keepDim; other reductions keep the walk.
/// </summary>
public class ChannelSumTests
{
    public static IEnumerable<object[]> Shapes() =>
    [
        [new[] { 64, 32, 28, 28 }],
        [new[] { 3, 70, 1000 }],
        [new[] { 2, 5, 3, 7, 401 }],
        [new[] { 70000, 3, 1, 1 }],   // unit planes: the walk adds rows of C
        [new[] { 1, 9, 160, 50 }],
    ];

    [Theory, MemberData(nameof(Shapes))]
    public void ParallelSumsAgreeBitwiseWithTheWalkAndWithDoubleSums(int[] shape)
    {
        var rng = new Random(shape.Sum());
        var whole = TestUtil.Random(rng, [2 * shape[0], .. shape[1..]]);
        // The second half of a larger tensor: contiguous, at a non-zero offset.
        var x = whole.Narrow(0, shape[0], shape[0]);
        Assert.True(x.IsContiguous);
        int[] dims = [0, .. Enumerable.Range(2, shape.Length - 2)];
        var parallel = x.Sum(dims);
        var keep = x.Sum(dims, keepDim: true);
        float[] serial;
        // The switch is process-wide, but both settings give the same bits, so other tests running meanwhile are unaffected.
        Tensor.ParallelSums = false;
        try { serial = x.Sum(dims).ToArray(); }
        finally { Tensor.ParallelSums = true; }
        Assert.Equal(serial, parallel.ToArray());
        Assert.Equal(new[] { 1, shape[1] }.Concat(Enumerable.Repeat(1, shape.Length - 2)), keep.Sizes);
        Assert.Equal(serial, keep.ToArray());
        var v = x.ToArray();
        int channels = shape[1], plane = v.Length / (shape[0] * channels);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, mag = 0;
            for (int i = 0; i < shape[0]; i++)
            for (int q = 0; q < plane; q++) { double e = v[(i * channels + c) * plane + q]; sum += e; mag += Math.Abs(e); }
            Assert.True(Math.Abs(parallel.ToArray()[c] - sum) <= 1e-6 * mag + 1e-6, $"{string.Join("×", shape)} channel {c}: {parallel.ToArray()[c]} against {sum}");
        }
    }
}
