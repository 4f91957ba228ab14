using Xunit;

namespace ConvKit.Tests;

internal static class TestUtil
{
    public static readonly ConvAlgorithm[] Algorithms = [ConvAlgorithm.Reference, ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Depthwise, ConvAlgorithm.Winograd, ConvAlgorithm.Winograd2, ConvAlgorithm.RowWinograd];

    public static IEnumerable<object[]> AlgorithmData => Algorithms.Select(a => new object[] { a });

    public static Tensor T(float[,] v) => Tensor.FromArray(v.Cast<float>().ToArray(), v.GetLength(0), v.GetLength(1));

    public static void Equal(float[,] expected, Tensor actual, double tol = 1e-4)
    {
        Assert.Equal(new[] { expected.GetLength(0), expected.GetLength(1) }, actual.Shape.ToArray());
        Close(expected.Cast<float>().ToArray(), actual.ToArray(), tol);
    }

    public static void Close(float[] expected, float[] actual, double tol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])),
                $"{what} element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Asserts that <paramref name="call"/> raises an ArgumentException whose message contains every fragment.</summary>
    public static void Rejects(Action call, params string[] fragments)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(call);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
    }

    public static Tensor Random(Random rng, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(data, shape);
    }
}
