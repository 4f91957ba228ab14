using ConvKit.Nn;
using Xunit;

namespace ConvKit.Tests.Nn;

public class ModuleTests
{
    private sealed class Block : Module
    {
        public Conv2d Conv1 { get; }
        public BatchNorm2d Bn { get; }
        public Block()
        {
            Conv1 = RegisterModule("conv1", new Conv2d(3, 4, 3, padding: 1, bias: false));
            Bn = RegisterModule("bn", new BatchNorm2d(4));
        }
        public override Tensor Forward(Tensor x) => F.Relu(Bn.Forward(Conv1.Forward(x)));
    }


    [Fact]
    public void NamesAreDottedLikePyTorch()
    {
        var layer1 = new Sequential(new Block(), new Block());
        var net = new Sequential();
        net.Add("layer1", layer1);
        Assert.Equal(new[] { "layer1.0.conv1.weight", "layer1.0.bn.weight", "layer1.0.bn.bias", "layer1.1.conv1.weight", "layer1.1.bn.weight", "layer1.1.bn.bias" },
            net.NamedParameters().Select(p => p.Name));
        Assert.Equal(new[] { "layer1.0.bn.running_mean", "layer1.0.bn.running_var", "layer1.0.bn.num_batches_tracked",
                             "layer1.1.bn.running_mean", "layer1.1.bn.running_var", "layer1.1.bn.num_batches_tracked" },
            net.NamedBuffers().Select(b => b.Name));
        Assert.Equal(new[] { "layer1.0.conv1.weight", "layer1.0.bn.weight", "layer1.0.bn.bias", "layer1.0.bn.running_mean", "layer1.0.bn.running_var",
                             "layer1.0.bn.num_batches_tracked", "layer1.1.conv1.weight" },
            net.StateDict().Select(kv => kv.Key).Take(7));
    }

    [Fact]
    public void StateDictRoundTripsIntoAFreshModel()
    {
        var a = new Block();
        a.Forward(Tensor.Randn([2, 3, 5, 5], new Generator(3)));   // moves running stats
        var b = new Block();
        b.LoadStateDict(a.StateDict());
        a.Eval(); b.Eval();
        var x = Tensor.Randn([1, 3, 5, 5], new Generator(4));
        Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        Assert.Equal(1f, b.Bn.NumBatchesTracked!.Item());
    }

    [Fact]
    public void LoadStateDictNamesMissingUnexpectedAndMismatchedKeys()
    {
        var m = new Block();
        var sd = m.StateDict().Where(kv => kv.Key != "bn.bias").Append(new("bn.extra", Tensor.Zeros(4))).ToList();
        var ex = Assert.Throws<ArgumentException>(() => m.LoadStateDict(sd));
        Assert.Contains("Missing key(s) in state_dict: \"bn.bias\"", ex.Message);
        Assert.Contains("Unexpected key(s) in state_dict: \"bn.extra\"", ex.Message);
        var (missing, unexpected) = m.LoadStateDict(sd, strict: false);
        Assert.Equal(new[] { "bn.bias" }, missing);
        Assert.Equal(new[] { "bn.extra" }, unexpected);

        var wrong = m.StateDict().Select(kv => kv.Key == "conv1.weight" ? new KeyValuePair<string, Tensor>(kv.Key, Tensor.Zeros(4, 3, 5, 5)) : kv).ToList();
        var ex2 = Assert.Throws<ArgumentException>(() => m.LoadStateDict(wrong, strict: false));
        Assert.Contains("size mismatch for conv1.weight: copying a param with shape [4, 3, 5, 5] from checkpoint, the shape in current model is [4, 3, 3, 3]", ex2.Message);
    }

    [Fact]
    public void TrainAndEvalPropagateAndChangeBatchNormAndDropout()
    {
        var net = new Sequential(new Block(), new Dropout(0.5));
        Assert.True(net[0].Training);
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.Training));
        var x = Tensor.Randn([2, 3, 4, 4], new Generator(1));
        Assert.Equal(net.Forward(x).ToArray(), net.Forward(x).ToArray());
        net.Train();
        Assert.True(((Block)net[0]).Bn.Training);
    }

    [Fact]
    public void BatchNormWithMomentumNoneKeepsACumulativeAverageLikePyTorch()
    {
        var fx = NnFixture.Get("bn_cumulative");
        var bn = new BatchNorm2d(3, momentum: null);
        int step = 0;
        foreach (var seed in fx.GetProperty("seeds").EnumerateArray())
        {
            var x = Tensor.FromArray(NnFixture.Seeded(2 * 3 * 4 * 5, seed.GetUInt64()), 2, 3, 4, 5) * (step + 1f) + step;
            TestUtil.Close(NnFixture.Tensor(fx.GetProperty("outputs")[step]).Data, bn.Forward(x).ToArray(), 1e-5, $"step {step}");
            step++;
        }
        var ours = bn.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var p in fx.GetProperty("state").EnumerateObject())
            TestUtil.Close(NnFixture.Tensor(p.Value).Data, ours[p.Name].ToArray(), 1e-5, p.Name);
    }

    [Fact]
    public void PaddingModesOfTheConvModuleUseFPad()
    {
        var x = Tensor.Randn([1, 2, 5, 6], new Generator(5));
        foreach (var mode in new[] { "reflect", "replicate", "circular" })
        {
            var conv = new Conv2d(2, 3, 3, padding: 1, paddingMode: mode);
            var expected = F.Conv2d(F.Pad(x, [1, 1, 1, 1], F.ParsePadMode(mode)), conv.Weight, conv.Bias);
            Assert.Equal(expected.ToArray(), conv.Forward(x).ToArray());
        }
        var same = new Conv2d(2, 3, (2, 4), padding: "same", paddingMode: "reflect");
        Assert.Equal(new[] { 1, 3, 5, 6 }, same.Forward(x).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => new Conv2d(2, 3, 3, paddingMode: "mirror"));
    }

    [Fact]
    public void SqueezeExcitationShapesAndWithSEWrapsABlock()
    {
        var se = new SqueezeExcitation(20, reduction: 8);
        Assert.Equal(new[] { 3, 20, 1, 1 }, se.Squeeze.Weight.Shape.ToArray());
        var x = Tensor.Randn([2, 20, 5, 7], new Generator(2));
        var y = se.Forward(x);
        Assert.Equal(x.Shape, y.Shape);
        // The gate is a sigmoid: every output shrinks the input towards zero, never flips its sign.
        var xs = x.ToArray(); var ys = y.ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.True(Math.Abs(ys[i]) <= Math.Abs(xs[i]) && ys[i] * xs[i] >= 0);

        var factory = SqueezeExcitation.WithSE((cin, cout) => new Conv2d(cin, cout, 3, padding: 1), reduction: 4);
        var block = (Sequential)factory(3, 16);
        Assert.IsType<Conv2d>(block[0]);
        Assert.IsType<SqueezeExcitation>(block[1]);
        Assert.Equal(new[] { "0.weight", "0.bias", "1.squeeze.weight", "1.squeeze.bias", "1.excite.weight", "1.excite.bias" },
            block.NamedParameters().Select(p => p.Name));
        Assert.Equal(new[] { 1, 16, 8, 8 }, block.Forward(Tensor.Zeros(1, 3, 8, 8)).Shape.ToArray());
    }

    [Fact]
    public void ConvTransposeModuleReachesARequestedOutputSize()
    {
        var up = new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1);
        var x = Tensor.Zeros(1, 4, 5, 5);
        Assert.Equal(new[] { 1, 2, 9, 9 }, up.Forward(x).Shape.ToArray());
        Assert.Equal(new[] { 1, 2, 10, 10 }, up.Forward(x, (10, 10)).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => up.Forward(x, (12, 12)));
    }
}
