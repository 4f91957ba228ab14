using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Tests.Serialization;

/// <summary>Checkpoints: resuming from one continues training bit-exactly; mismatched models and files are named errors.</summary>
public class CheckpointTests : TempDirectory
{
    private sealed class Run
    {
        public readonly Sequential Net;
        public readonly AdamW Opt;
        public readonly OneCycleLR Sched;
        public readonly Generator Gen = new(5);

        public Run()
        {
            using (Generator.Use(new Generator(1))) Net = new Sequential(new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new Conv2d(4, 2, 1));
            Opt = new AdamW(Net.Parameters(), lr: 1e-2);
            Sched = new OneCycleLR(Opt, 0.05, totalSteps: 20);
        }

        public float Step()
        {
            var x = Tensor.Randn([2, 1, 6, 6], Gen);
            var target = Tensor.Randn([2, 2, 6, 6], Gen);
            Opt.ZeroGrad();
            var loss = F.MseLoss(Net.Forward(x), target);
            loss.Backward();
            Opt.Step();
            Sched.Step();
            return loss.Item();
        }
    }

    [Fact]
    public void ResumingContinuesBitExactly()
    {
        var path = PathOf("ck.safetensors");
        var a = new Run();
        for (int i = 0; i < 4; i++) a.Step();
        Checkpoint.Save(path, a.Net, epoch: 4, a.Opt, a.Sched, a.Gen, new Dictionary<string, string> { ["model"] = "tiny" });
        var expected = Enumerable.Range(0, 5).Select(_ => a.Step()).ToArray();

        var b = new Run();
        Assert.Equal(4, Checkpoint.Load(path, b.Net, b.Opt, b.Sched, b.Gen));
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => b.Step()).ToArray());
        Assert.Equal(a.Net.StateDict().SelectMany(kv => kv.Value.ToArray()), b.Net.StateDict().SelectMany(kv => kv.Value.ToArray()));
        Assert.Equal("tiny", Checkpoint.ReadInfo(path)["model"]);
    }

    [Fact]
    public void WeightsReadableAsAPlainStateDictAndWeightsOnlyFilesRefuseOptimizerState()
    {
        var path = PathOf("ck.safetensors");
        var a = new Run();
        a.Step();
        Checkpoint.Save(path, a.Net, 1, a.Opt, a.Sched, a.Gen);
        var plain = new Run();
        SafeTensors.LoadStateDict(path, plain.Net, strict: false);
        Assert.Equal(a.Net.StateDict()[0].Value.ToArray(), plain.Net.StateDict()[0].Value.ToArray());

        var weights = PathOf("w.safetensors");
        SafeTensors.SaveStateDict(weights, a.Net);
        var c = new Run();
        Assert.Equal(0, Checkpoint.Load(weights, c.Net));
        Assert.Contains("expected optimizer state", Assert.Throws<SafeTensorsException>(() => Checkpoint.Load(weights, c.Net, c.Opt)).Message);
    }

    [Fact]
    public void CheckpointOfAnotherModelListsTheKeys()
    {
        var path = PathOf("other.safetensors");
        Checkpoint.Save(path, new Sequential(new Conv2d(1, 4, 3), new ReLU(), new Conv2d(4, 2, 1), new Conv2d(2, 2, 1)), 0);
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path, new Run().Net));
        Assert.Contains("another model", e.Message);
        Assert.Contains("missing key(s): 1.weight, 1.bias, 1.running_mean", e.Message);
        Assert.Contains("unexpected key(s): 2.weight, 2.bias", e.Message);
        Assert.Contains("3.weight (checkpoint [2, 2, 1, 1], model [2, 4, 1, 1])", e.Message);
        var s = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path, new Sequential(new Conv2d(1, 5, 3))));
        Assert.Contains("0.weight (checkpoint [4, 1, 3, 3], model [5, 1, 3, 3])", s.Message);
    }

    [Fact]
    public void OptimizerOfAnotherKindIsRefused()
    {
        var path = PathOf("ck.safetensors");
        var a = new Run();
        a.Step();
        Checkpoint.Save(path, a.Net, 1, a.Opt);
        var b = new Run();
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path, b.Net, new SGD(b.Net.Parameters(), lr: 0.1)));
        Assert.Contains("AdamW", e.Message);
    }
}
