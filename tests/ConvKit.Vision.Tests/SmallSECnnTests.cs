using ConvKit.Vision.Models;
using ConvKit.Tests;
using Xunit;

namespace ConvKit.Vision.Tests;

/// <summary>SmallSECnn against PyTorch's peer model: names, seeded initialisation, forward and gradients.</summary>
public class SmallSECnnTests
{
    private static SmallSECnn Build()
    {
        using (Generator.Use(new Generator(0))) return new SmallSECnn();
    }

    private static Tensor Input()
    {
        var fx = NnFixture.Get("smallsecnn");
        var shape = fx.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return Tensor.FromArray(NnFixture.Seeded(shape.Aggregate(1, (a, b) => a * b), fx.GetProperty("input_seed").GetUInt64()), shape);
    }

    private static void Close(float[] expected, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
    }

    [Fact]
    public void ParameterAndBufferNamesMatchPyTorch()
    {
        var fx = NnFixture.Get("smallsecnn");
        var m = Build();
        Assert.Equal(fx.GetProperty("parameter_names").EnumerateArray().Select(v => v.GetString()), m.NamedParameters().Select(p => p.Name));
        Assert.Equal(fx.GetProperty("buffer_names").EnumerateArray().Select(v => v.GetString()), m.NamedBuffers().Select(b => b.Name));
    }

    [Fact]
    public void SeedZeroInitialisesTheSameWeightsAsTorchManualSeedZero()
    {
        var state = NnFixture.Get("smallsecnn").GetProperty("state");
        var ours = Build().StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(state.EnumerateObject().Select(p => p.Name), ours.Keys);
        foreach (var p in state.EnumerateObject())
        {
            var v = ours[p.Name].ToArray();
            var first = p.Value.GetProperty("first").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Close(first, v.Take(first.Length).ToArray(), 0, p.Name);
            Assert.Equal(p.Value.GetProperty("sum").GetDouble(), v.Sum(x => (double)x), 1e-6 * Math.Max(1, v.Length));
        }
    }

    [Fact]
    public void ForwardInTrainAndEvalModeMatchesPyTorch()
    {
        var fx = NnFixture.Get("smallsecnn");
        var m = Build();
        var x = Input();
        Close(NnFixture.Tensor(fx.GetProperty("train_output")).Data, m.Forward(x).ToArray(), 1e-4, "train output");
        var ours = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var p in fx.GetProperty("running_after_train").EnumerateObject())
            Close(NnFixture.Tensor(p.Value).Data, ours[p.Name].ToArray(), 1e-5, p.Name);
        m.Eval();
        Close(NnFixture.Tensor(fx.GetProperty("eval_output")).Data, m.Forward(x).ToArray(), 1e-4, "eval output");
    }

    [Fact]
    public void ParameterGradientsMatchPyTorch()
    {
        var fx = NnFixture.Get("smallsecnn");
        var m = Build();
        var y = m.Forward(Input());
        var g = Tensor.FromArray(NnFixture.Seeded(y.Numel, fx.GetProperty("grad_output_seed").GetUInt64()), y.Shape.ToArray());
        (y * g).Sum().Backward();
        foreach (var (name, p) in m.NamedParameters())
        {
            var e = fx.GetProperty("grads").GetProperty(name);
            var grad = p.Grad!.ToArray();
            var first = e.GetProperty("first").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Close(first, grad.Take(first.Length).ToArray(), 1e-3, name + ".grad");
            double abssum = e.GetProperty("abssum").GetDouble();
            Assert.True(Math.Abs(grad.Sum(v => Math.Abs((double)v)) - abssum) <= 1e-3 * Math.Max(1, abssum), $"{name}.grad |sum|");
        }
    }
}
