using ConvKit.Optim;
using Xunit;
using static ConvKit.Tests.TestUtil;

namespace ConvKit.Tests.Optim;

/// <summary>ZeroGrad, skipped parameters, argument checks of optimizers and schedulers, and a small training run.</summary>
public class OptimizerBehaviourTests
{
    private static Tensor Param(params float[] values) => Tensor.FromArray(values, values.Length).RequiresGrad_();

    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.1, 0.01, false)]
    [InlineData(0.0, 0.01, true)]
    public void SgdMomentumStepHasPyTorchsRoundingsOnLargeTensors(double dampening, double weightDecay, bool nesterov)
    {
        // PyTorch: d = g + wd·p (fused), buf = d on the first step, then buf.mul_(m).add_(d, alpha=1 − dampening);
        // u = d.add(buf, alpha=m) with Nesterov, else buf; p.add_(u, alpha=−lr): each an own rounding, the alpha forms
        // fused. The one-pass update must give those bits exactly, across its parallel chunks and its scalar tail
        // (100,003 elements).
        int n = 100_003;
        var rng = new Random(3);
        float[] p0 = new float[n], g1 = new float[n], g2 = new float[n];
        for (int i = 0; i < n; i++) { p0[i] = (float)(rng.NextDouble() * 2 - 1); g1[i] = (float)(rng.NextDouble() - 0.5); g2[i] = (float)(rng.NextDouble() - 0.5); }
        var p = Tensor.FromArray(p0, n).RequiresGrad_();
        var opt = new SGD([p], 0.05, momentum: 0.9, dampening: dampening, weightDecay: weightDecay, nesterov: nesterov);
        float[] x = (float[])p0.Clone(), buf = new float[n];
        float m = 0.9f, s = (float)(1 - dampening), lr = -0.05f, wd = (float)weightDecay;
        foreach (var (g, first) in new[] { (g1, true), (g2, false), (g1, false) })
        {
            p.Grad = Tensor.FromArray(g, n);
            opt.Step();
            for (int i = 0; i < n; i++)
            {
                float d = wd != 0 ? MathF.FusedMultiplyAdd(x[i], wd, g[i]) : g[i];
                buf[i] = first ? d : MathF.FusedMultiplyAdd(d, s, buf[i] * m);
                float u = nesterov ? MathF.FusedMultiplyAdd(buf[i], m, d) : buf[i];
                x[i] = MathF.FusedMultiplyAdd(u, lr, x[i]);
            }
            var actual = p.ToArray();
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(x[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"element {i}: {actual[i]}, expected {x[i]}");
        }
    }

    [Fact]
    public void ZeroGradSetsGradientsToNullByDefault()
    {
        var p = Param(1, 2);
        p.Grad = Tensor.Ones(2);
        new SGD([p], 0.1).ZeroGrad();
        Assert.Null(p.Grad);
    }

    [Fact]
    public void AZeroedGradientIsStillAStepButANullOneIsSkipped()
    {
        var p = Param(1, 2);
        var opt = new SGD([p], 0.1, weightDecay: 0.5);
        p.Grad = Tensor.Ones(2);
        opt.ZeroGrad(setToNone: false);
        Assert.Equal(new[] { 0f, 0f }, p.Grad!.ToArray());
        opt.Step();                                   // weight decay acts on a zero gradient
        Assert.Equal(new[] { 0.95f, 1.9f }, p.ToArray());
        opt.ZeroGrad();
        opt.Step();                                   // no gradient: untouched
        Assert.Equal(new[] { 0.95f, 1.9f }, p.ToArray());
    }

    [Fact]
    public void ParametersWithoutGradientGetNoStateAndNoStepCount()
    {
        var (a, b) = (Param(1, 2), Param(3));
        var opt = new Adam([a, b], 0.1);
        a.Grad = Tensor.Ones(2);
        opt.Step();
        opt.Step();
        var state = opt.StateDict().State;
        Assert.Equal(2f, state[0]["step"].Data[0]);
        Assert.False(state.ContainsKey(1));
        Assert.Equal(new[] { 3f }, b.ToArray());
    }

    [Fact]
    public void NonContiguousParametersAreUpdatedInPlace()
    {
        var storage = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var p = storage.Transpose(0, 1).RequiresGrad_();   // a leaf view with strides [1, 3]
        p.Grad = Tensor.Ones(3, 2);
        new SGD([p], 1).Step();
        Assert.Equal(new[] { 0f, 1f, 2f, 3f, 4f, 5f }, storage.ToArray());
    }

    [Fact]
    public void AdamDrivesACrossEntropyDown()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([16, 4], g);
        var target = x.Sum([1]).Gt(0f).ToLong();             // a linearly separable labelling
        var w = (Tensor.Randn([2, 4], g) * 0.1f).RequiresGrad_();
        var opt = new Adam([w], 0.1);
        float Loss() => F.CrossEntropy(F.Linear(x, w), target).Item();
        float before = Loss();
        for (int i = 0; i < 50; i++)
        {
            opt.ZeroGrad();
            F.CrossEntropy(F.Linear(x, w), target).Backward();
            opt.Step();
        }
        Assert.True(Loss() < before / 4, $"loss {before} -> {Loss()}");
    }

    [Fact] public void EmptyParameterListIsRejected() => Rejects(() => new SGD([], 0.1), "SGD", "empty parameter list");

    [Fact] public void NonLeafParametersAreRejected() => Rejects(() => new Adam([Param(1) * 2f]), "Adam", "non-leaf");

    [Fact]
    public void AParameterMayAppearOnlyOnce()
    {
        var p = Param(1);
        Rejects(() => new SGD([p, p], 0.1), "more than once");
        var opt = new AdamW([p]);
        Rejects(() => opt.AddParamGroup([p]), "AdamW", "more than once");
    }

    [Theory]
    [InlineData(-0.1, 0, 0, false, "Invalid learning rate: -0.1")]
    [InlineData(0.1, -0.5, 0, false, "Invalid momentum value: -0.5")]
    [InlineData(0.1, 0, 0, true, "Nesterov momentum requires a momentum and zero dampening")]
    [InlineData(0.1, 0.9, 0.1, true, "Nesterov momentum requires a momentum and zero dampening")]
    public void SgdChecksItsHyperParameters(double lr, double momentum, double dampening, bool nesterov, string message) =>
        Rejects(() => new SGD([Param(1)], lr, momentum, dampening, nesterov: nesterov), "SGD", message);

    [Fact]
    public void AdamChecksItsHyperParameters()
    {
        Rejects(() => new Adam([Param(1)], betas: (1.0, 0.999)), "Adam", "Invalid beta parameter at index 0: 1");
        Rejects(() => new AdamW([Param(1)], betas: (0.9, -0.1)), "AdamW", "Invalid beta parameter at index 1: -0.1");
        Rejects(() => new Adam([Param(1)], eps: -1), "Invalid epsilon value: -1");
        Rejects(() => new AdamW([Param(1)], weightDecay: -1), "Invalid weight_decay value: -1");
        Rejects(() => new SGD([Param(1)], 0.1).AddParamGroup([Param(2)], g => g.Nesterov = true), "Nesterov");
    }

    [Fact]
    public void AGradientOfTheWrongShapeIsRejected()
    {
        var p = Param(1, 2);
        p.Grad = Tensor.Ones(3);
        Rejects(() => new SGD([p], 0.1).Step(), "SGD.Step", "[3]", "[2]");
    }

    [Fact]
    public void SchedulersCheckTheirArguments()
    {
        var opt = new SGD([Param(1)], 0.1, momentum: 0.9);
        Rejects(() => new StepLR(opt, 0), "StepLR", "stepSize", "0");
        Rejects(() => new CosineAnnealingLR(opt, 0), "CosineAnnealingLR", "tMax");
        Rejects(() => new OneCycleLR(opt, 0.1, totalSteps: 0), "OneCycleLR", "total_steps, but got 0");
        Rejects(() => new OneCycleLR(opt, 0.1, totalSteps: 10, pctStart: 1.5), "pct_start, but got 1.5");
        Rejects(() => new OneCycleLR(opt, 0.1, totalSteps: 10, annealStrategy: "exp"), "'cos' or 'linear'", "exp");
        Rejects(() => new OneCycleLR(opt, [0.1, 0.2], totalSteps: 10), "expected 1 values for max_lr, got 2");
    }

    [Fact]
    public void OneCycleRefusesToStepPastTotalStepsAndKeepsItsLr()
    {
        var opt = new SGD([Param(1)], 0.1, momentum: 0.9);
        var sched = new OneCycleLR(opt, 0.1, totalSteps: 3);
        for (int i = 0; i < 3; i++) sched.Step();
        double lr = opt.ParamGroups[0].Lr;
        var ex = Assert.Throws<InvalidOperationException>(sched.Step);
        Assert.Contains("Tried to step 4 times. The specified number of total steps is 3", ex.Message);
        Assert.Equal(lr, opt.ParamGroups[0].Lr);
        Assert.Equal(3, sched.LastEpoch);
    }

    [Fact]
    public void ASecondSchedulerStartsFromTheFirstOnesInitialLr()
    {
        var opt = new SGD([Param(1)], 0.1);
        var first = new StepLR(opt, 1, gamma: 0.5);
        first.Step();
        first.Step();
        Assert.Equal(0.025, opt.ParamGroups[0].Lr, 15);
        var second = new CosineAnnealingLR(opt, 10);     // PyTorch: group.setdefault('initial_lr', ...)
        Assert.Equal([0.1], second.BaseLrs);
        Assert.Equal([0.025], second.LastLr);
    }
}
