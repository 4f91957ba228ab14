using System.Text.Json;
using ConvKit.Serialization;
using ConvKit.Tests;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Vision.Tests;

/// <summary>
/// A PyTorch SeedUNet state_dict (widths 8, 8, 16, 16, 32; tools/golden/gen_model_weights.py) saved as safetensors
/// in F32, F16 and BF16 loads into <c>new UNet(3, 2, widths)</c> by name and reproduces PyTorch's outputs.
/// </summary>
public class SafeTensorsUNetTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "safetensors");
    private static readonly JsonElement Fx = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "seedunet.json"))).RootElement;

    private static UNet Load(string file)
    {
        UNet m;
        var widths = Fx.GetProperty("widths").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        using (Generator.Use(new Generator(99))) m = new UNet(3, 2, widths);
        var (missing, unexpected) = SafeTensors.LoadStateDict(Path.Combine(Dir, file), m);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        return m;
    }

    private static Tensor Input()
    {
        var shape = Fx.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return Tensor.FromArray(NnFixture.Seeded(shape.Aggregate(1, (a, b) => a * b), Fx.GetProperty("input_seed").GetUInt64()), shape);
    }

    /// <summary>Max |actual - expected| / max(1, |expected|) over all elements, after checking the shapes.</summary>
    private static double MaxRelativeError(Tensor actual, string key)
    {
        var (shape, expected) = NnFixture.Tensor(Fx.GetProperty(key));
        Assert.Equal(shape, actual.Shape.ToArray());
        var a = actual.ToArray();
        return expected.Select((e, i) => Math.Abs(a[i] - e) / Math.Max(1.0, Math.Abs(e))).Max();
    }

    [Fact]
    public void Float32StateDictGivesPyTorchsEvalOutput()
    {
        var m = Load("seedunet.safetensors");
        m.Eval();
        using var _ = Autograd.NoGrad();
        Assert.InRange(MaxRelativeError(m.Forward(Input()), "eval"), 0, 1e-4);
    }

    [Fact]
    public void Float32StateDictGivesPyTorchsTrainOutputAndRunningStatistics()
    {
        var m = Load("seedunet.safetensors");
        m.Train();
        using var _ = Autograd.NoGrad();
        Assert.InRange(MaxRelativeError(m.Forward(Input()), "train"), 0, 1e-4);
        Assert.InRange(MaxRelativeError(m.Bn1[0].RunningMean!, "bn1.0.running_mean"), 0, 1e-5);
    }

    /// <summary>
    /// Half-precision weights widen exactly to float32, so the output equals PyTorch's float32 model holding the same
    /// rounded weights to float32 tolerance, and the full-precision output to half-precision tolerance.
    /// </summary>
    [Theory]
    [InlineData("seedunet_f16.safetensors", "eval_f16", 1e-3)]
    [InlineData("seedunet_bf16.safetensors", "eval_bf16", 5e-3)]
    public void HalfPrecisionStateDictsLoadAndGiveOutputsWithinTheirPrecision(string file, string key, double halfTolerance)
    {
        using (var f = SafeTensorsFile.Open(Path.Combine(Dir, file)))
            Assert.Contains(f.Entries, e => e.DType is SafeTensorsDType.F16 or SafeTensorsDType.BF16);
        var m = Load(file);
        m.Eval();
        using var _ = Autograd.NoGrad();
        var y = m.Forward(Input());
        Assert.InRange(MaxRelativeError(y, key), 0, 1e-4);
        Assert.InRange(MaxRelativeError(y, "eval"), 0, halfTolerance);
    }
}
