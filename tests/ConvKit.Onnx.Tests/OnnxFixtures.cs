using System.Text.Json;
using ConvKit.Tests.Golden;
using Xunit;

namespace ConvKit.Onnx.Tests;

/// <summary>Fixtures/onnx (tools/golden/gen_onnx.py): a model, its seeded input and PyTorch's output.</summary>
internal static class OnnxFixtures
{
    public static string Dir => Environment.GetEnvironmentVariable("CONVKIT_ONNX_FIXTURES") is { Length: > 0 } d ? d
        : Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx");

    public static string ModelPath(string name) => Path.Combine(Dir, name + ".onnx");

    public static (Tensor Input, int[] OutShape, float[] Expected) Case(string name)
    {
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name + ".json"))).RootElement;
        var shape = root.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var seed = root.GetProperty("seed").GetUInt64();
        var input = Tensor.FromArray(GoldenPrng.Generate(shape, seed), shape);
        return (input, root.GetProperty("output_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
                root.GetProperty("output").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    /// <summary>float32 agreement: |a − e| ≤ 1e-4·max(1, max|e|) + 1e-4·|e| elementwise.</summary>
    public static void AssertClose(float[] expected, float[] actual, string what, double rtol = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1.0, expected.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - (double)actual[i]);
            Assert.True(err <= rtol * scale + rtol * Math.Abs(expected[i]),
                $"{what}: element {i}: expected {expected[i]}, got {actual[i]} (|diff| {err:g3}, scale {scale:g3})");
        }
    }
}
