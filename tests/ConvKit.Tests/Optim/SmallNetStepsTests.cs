using ConvKit.Nn;
using ConvKit.Optim;
using Xunit;

namespace ConvKit.Tests.Optim;

/// <summary>
/// From identical initial weights (the same seed) and identical batches, three optimizer steps of a small conv net
/// give PyTorch's weights (tools/golden/gen_nn.py, "optimizer_steps").
/// </summary>
public class SmallNetStepsTests
{
    private static Sequential SmallConvNet()
    {
        using (Generator.Use(new Generator(3)))
            // No conv bias before batch norm: its true gradient is 0, and Adam would amplify rounding noise into ±lr steps.
            return new Sequential(new Conv2d(1, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
                                  new Conv2d(4, 6, 3), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 3));
    }

    public static IEnumerable<object[]> Optimizers() => new[] { "sgd", "sgd_nesterov", "adam", "adamw" }.Select(n => new object[] { n });

    [Theory, MemberData(nameof(Optimizers))]
    public void ThreeStepsLandOnPyTorchsWeights(string name)
    {
        var fx = NnFixture.Get("optimizer_steps").EnumerateArray().Single(e => e.GetProperty("optimizer").GetString() == name);
        var kw = fx.GetProperty("kwargs");
        double K(string k, double d) => kw.TryGetProperty(k, out var v) ? v.GetDouble() : d;
        var body = SmallConvNet();
        var net = new Sequential();
        net.Add("f", body);
        var ps = net.Parameters().Cast<Tensor>().ToList();
        Optimizer opt = name switch
        {
            "sgd" or "sgd_nesterov" => new SGD(ps, K("lr", 0), K("momentum", 0), weightDecay: K("weight_decay", 0), nesterov: name == "sgd_nesterov"),
            "adam" => new Adam(ps, K("lr", 0), weightDecay: K("weight_decay", 0)),
            _ => new AdamW(ps, K("lr", 0), weightDecay: K("weight_decay", 0.01)),
        };
        var losses = fx.GetProperty("losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (int step = 0; step < 3; step++)
        {
            var x = Tensor.FromArray(NnFixture.Seeded(8 * 100, (ulong)(990000 + 10 * step)), 8, 1, 10, 10);
            var y = LongTensor.FromArray(Golden.GoldenPrng.Generate(8, (ulong)(990001 + 10 * step), 0, 3).Select(v => (long)Math.Floor(v)).ToArray(), 8);
            opt.ZeroGrad();
            var loss = F.CrossEntropy(net.Forward(x), y);
            Assert.Equal(losses[step], loss.Item(), 4);
            loss.Backward();
            opt.Step();
        }
        var ours = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var p in fx.GetProperty("state").EnumerateObject())
            TestUtil.Close(NnFixture.Tensor(p.Value).Data, ours[p.Name].ToArray(), 2e-5, $"{name} {p.Name}");
    }
}
