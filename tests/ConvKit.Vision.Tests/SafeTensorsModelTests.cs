using System.Text.Json;
using ConvKit.Serialization;
using ConvKit.Tests;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Vision.Tests;

/// <summary>A PyTorch SmallSECnn state_dict saved as safetensors loads by name and reproduces PyTorch's output.</summary>
public class SafeTensorsModelTests
{
    [Fact]
    public void PyTorchStateDictLoadsByNameAndGivesPyTorchsOutput()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "safetensors");
        var fx = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "smallsecnn.json"))).RootElement;
        SmallSECnn m;
        using (Generator.Use(new Generator(123))) m = new SmallSECnn();
        SafeTensors.LoadStateDict(Path.Combine(dir, "smallsecnn.safetensors"), m);
        foreach (var p in fx.GetProperty("num_batches_tracked").EnumerateObject())
            Assert.Equal(p.Value.GetInt64(), (long)m.StateDict().Single(kv => kv.Key == p.Name).Value.Item());
        m.Eval();
        var shape = fx.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var x = Tensor.FromArray(NnFixture.Seeded(shape.Aggregate(1, (a, b) => a * b), fx.GetProperty("input_seed").GetUInt64()), shape);
        var (_, expected) = NnFixture.Tensor(fx.GetProperty("output"));
        var actual = m.Forward(x).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"output[{i}]: {actual[i]} vs PyTorch {expected[i]}");
    }
}
