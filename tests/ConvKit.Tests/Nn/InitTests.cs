using System.Text.Json;
using ConvKit.Nn;
using Xunit;

namespace ConvKit.Tests.Nn;

/// <summary>Default and explicit initialisations reproduce PyTorch's values under the same seed.</summary>
public class InitTests
{
    public static IEnumerable<object[]> Cases() =>
        NnFixture.Get("init").EnumerateArray().Select((e, i) => new object[] { i });

    private static Module Build(string kind, JsonElement kw)
    {
        int I(string k, int d) => kw.TryGetProperty(k, out var v) ? v.GetInt32() : d;
        Pair P(string k) => kw.GetProperty(k) is var v && v.ValueKind == JsonValueKind.Array ? (v[0].GetInt32(), v[1].GetInt32()) : v.GetInt32();
        bool bias = !kw.TryGetProperty("bias", out var b) || b.GetBoolean();
        return kind switch
        {
            "Conv2d" => new Conv2d(I("in_channels", 0), I("out_channels", 0), P("kernel_size"), groups: I("groups", 1), bias: bias),
            "ConvTranspose2d" => new ConvTranspose2d(I("in_channels", 0), I("out_channels", 0), P("kernel_size"), groups: I("groups", 1), bias: bias),
            "Linear" => new Linear(I("in_features", 0), I("out_features", 0), bias),
            _ => throw new NotSupportedException(kind),
        };
    }

    [Theory, MemberData(nameof(Cases))]
    public void MatchesTorchUnderTheSameSeed(int index)
    {
        var e = NnFixture.Get("init")[index];
        var g = new Generator(e.GetProperty("seed").GetUInt64());
        if (e.TryGetProperty("module", out var kind))
        {
            Module m;
            using (Generator.Use(g)) m = Build(kind.GetString()!, e.GetProperty("kwargs"));
            var ours = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
            var state = e.GetProperty("state");
            Assert.Equal(state.EnumerateObject().Select(p => p.Name), ours.Keys);
            foreach (var p in state.EnumerateObject())
            {
                var (shape, data) = NnFixture.Tensor(p.Value);
                Assert.Equal(shape, ours[p.Name].Shape.ToArray());
                Assert.Equal(data, ours[p.Name].ToArray());
            }
            return;
        }
        var w = Tensor.Zeros(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        var kw = e.GetProperty("kwargs");
        double D(string k, double d) => kw.TryGetProperty(k, out var v) ? v.GetDouble() : d;
        string S(string k, string d) => kw.TryGetProperty(k, out var v) ? v.GetString()! : d;
        switch (e.GetProperty("init").GetString())
        {
            case "kaiming_normal_": Init.KaimingNormal(w, D("a", 0), S("mode", "fan_in"), S("nonlinearity", "leaky_relu"), g); break;
            case "kaiming_uniform_": Init.KaimingUniform(w, D("a", 0), S("mode", "fan_in"), S("nonlinearity", "leaky_relu"), g); break;
            case "xavier_uniform_": Init.XavierUniform(w, D("gain", 1), g); break;
            case "xavier_normal_": Init.XavierNormal(w, D("gain", 1), g); break;
        }
        var expected = NnFixture.Tensor(e.GetProperty("value")).Data;
        TestUtil.Close(expected, w.ToArray(), 1e-6, e.GetProperty("init").GetString()!);
    }

    [Fact]
    public void BilinearKernelMatchesTheFcnTutorial()
    {
        // bilinear_kernel(1, 1, 4) of the FCN tutorial: outer product of [0.25, 0.75, 0.75, 0.25].
        var k = Init.BilinearKernel(1, 1, 4).Reshape(4, 4).ToArray();
        float[] v = [0.25f, 0.75f, 0.75f, 0.25f];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) Assert.Equal(v[r] * v[c], k[r * 4 + c], 6);
        var k3 = Init.BilinearKernel(3, 3, 3);
        Assert.Equal(1f, k3[1, 1, 1, 1]);
        Assert.Equal(0f, k3[0, 1, 1, 1]);
        Assert.Equal(0.25f, k3[2, 2, 0, 0]);
    }

    [Fact]
    public void BilinearTransposedConvUpsamplesAConstantImageToTheSameConstant()
    {
        var up = new ConvTranspose2d(2, 2, 4, stride: 2, padding: 1, bias: false);
        using (Autograd.NoGrad()) up.Weight.CopyFrom(Init.BilinearKernel(2, 2, 4));
        var y = up.Forward(Tensor.Full([1, 2, 5, 5], 3f));
        Assert.Equal(new[] { 1, 2, 10, 10 }, y.Shape.ToArray());
        // Interior pixels see full kernel support and keep the value; borders lose part of it.
        Assert.Equal(3f, y[0, 1, 4, 5], 5);
    }
}
