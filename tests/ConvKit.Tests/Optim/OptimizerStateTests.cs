using System.Text.Json;
using ConvKit.Optim;
using ConvKit.Tests.Golden;
using Xunit;
using static ConvKit.Tests.TestUtil;

namespace ConvKit.Tests.Optim;

/// <summary>Resuming from state dicts (bit-exact, also through JSON) and the checks LoadStateDict makes.</summary>
public class OptimizerStateTests
{
    private static readonly int[][] Shapes = [[3, 4], [5]];

    private static Tensor[] Params(params int[][] shapes) =>
        (shapes.Length == 0 ? Shapes : shapes).Select((s, i) => Tensor.FromArray(GoldenPrng.Generate(s, (ulong)(1 + i)), s).RequiresGrad_()).ToArray();

    private static void StepWithGrads(Optimizer opt, Tensor[] ps, int step)
    {
        for (int i = 0; i < ps.Length; i++)
        {
            var shape = ps[i].Shape.ToArray();
            ps[i].Grad = Tensor.FromArray(GoldenPrng.Generate(shape, (ulong)(100 + 10 * step + i)), shape);
        }
        opt.Step();
    }

    public static TheoryData<string> Kinds => ["sgd", "sgd-nesterov", "adam-amsgrad", "adamw"];

    private static Optimizer Make(string kind, Tensor[] ps) => kind switch
    {
        "sgd" => new SGD(ps, 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
        "sgd-nesterov" => new SGD(ps, 0.05, momentum: 0.9, nesterov: true),
        "adam-amsgrad" => new Adam(ps, 0.01, amsgrad: true, weightDecay: 0.01),
        "adamw" => new AdamW(ps, 0.01),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static T JsonRoundTrip<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value))!;

    private static Tensor[] Copies(Tensor[] ps) => ps.Select(p => Tensor.FromArray(p.ToArray(), p.Shape.ToArray()).RequiresGrad_()).ToArray();

    [Theory, MemberData(nameof(Kinds))]
    public void ResumingFromAStateDictIsBitExact(string kind)
    {
        var uninterrupted = Params();
        var optA = Make(kind, uninterrupted);
        for (int step = 0; step < 3; step++) StepWithGrads(optA, uninterrupted, step);

        var first = Params();
        var optB = Make(kind, first);
        StepWithGrads(optB, first, 0);
        StepWithGrads(optB, first, 1);
        var saved = JsonRoundTrip(optB.StateDict());

        var resumed = Copies(first);
        var optC = Make(kind, resumed);
        optC.LoadStateDict(saved);
        StepWithGrads(optC, resumed, 2);
        for (int i = 0; i < resumed.Length; i++) Assert.Equal(uninterrupted[i].ToArray(), resumed[i].ToArray());
    }

    [Fact]
    public void StateDictIsASnapshotAndLoadCopiesIt()
    {
        var ps = Params();
        var opt = new SGD(ps, 0.1, momentum: 0.9);
        StepWithGrads(opt, ps, 0);
        var saved = opt.StateDict();
        var buffer = saved.State[0]["momentum_buffer"].Data.ToArray();
        StepWithGrads(opt, ps, 1);
        Assert.Equal(buffer, saved.State[0]["momentum_buffer"].Data);

        var other = new SGD(Copies(ps), 0.5, momentum: 0.1);
        other.LoadStateDict(saved);
        saved.State[0]["momentum_buffer"].Data[0] = 1234f;
        Assert.NotEqual(1234f, other.StateDict().State[0]["momentum_buffer"].Data[0]);
        Assert.Equal(0.1, other.ParamGroups[0].Lr);
        Assert.Equal(0.9, other.ParamGroups[0].Momentum);
    }

    [Fact]
    public void SchedulerAndOptimizerResumeTogether()
    {
        double[] Run(bool interrupt)
        {
            var ps = Params();
            var opt = new SGD(ps, 0.1, momentum: 0.9);
            LRScheduler sched = new OneCycleLR(opt, 0.5, totalSteps: 20, threePhase: true);
            var lrs = new List<double>();
            for (int step = 0; step < 20; step++)
            {
                if (interrupt && step == 7)
                {
                    var (optState, schedState) = (JsonRoundTrip(opt.StateDict()), JsonRoundTrip(sched.StateDict()));
                    ps = Copies(ps);
                    opt = new SGD(ps, 0.1, momentum: 0.9);
                    sched = new OneCycleLR(opt, 0.5, totalSteps: 20, threePhase: true);
                    opt.LoadStateDict(optState);
                    sched.LoadStateDict(schedState);
                }
                StepWithGrads(opt, ps, step);
                sched.Step();
                lrs.Add(sched.LastLr[0]);
                lrs.Add(opt.ParamGroups[0].Momentum);
            }
            return [.. lrs, .. ps.SelectMany(p => p.ToArray()).Select(v => (double)v)];
        }
        Assert.Equal(Run(false), Run(true));
    }

    [Fact]
    public void LoadRejectsADifferentNumberOfGroups()
    {
        var ps = Params();
        var two = new SGD([ps[0]], 0.1);
        two.AddParamGroup([ps[1]], g => g.Lr = 0.01);
        Rejects(() => new SGD(Copies(ps), 0.1).LoadStateDict(two.StateDict()), "SGD.LoadStateDict", "2 parameter groups", "has 1");
    }

    [Fact]
    public void LoadRejectsADifferentNumberOfParameters() =>
        Rejects(() => new Adam(Params([3, 4], [5], [2])).LoadStateDict(new Adam(Params()).StateDict()),
            "Adam.LoadStateDict", "group 0 has 2 parameters", "has 3");

    [Fact]
    public void LoadRejectsAStateOfTheWrongShapeAndChangesNothing()
    {
        var ps = Params();
        var opt = new Adam(ps, 0.01);
        StepWithGrads(opt, ps, 0);
        var target = new Adam(Params([4, 3], [5]), 0.02);
        Rejects(() => target.LoadStateDict(opt.StateDict()), "state 'exp_avg' of parameter 0", "[3, 4]", "expected [4, 3]");
        Assert.Equal(0.02, target.ParamGroups[0].Lr);
        Assert.Empty(target.StateDict().State);
    }

    [Fact]
    public void LoadRejectsStateOfAnotherOptimizer()
    {
        var ps = Params();
        var adam = new Adam(ps);
        StepWithGrads(adam, ps, 0);
        var sgd = new SGD(Copies(ps), 0.1);
        var foreign = sgd.StateDict() with { State = adam.StateDict().State };
        Rejects(() => sgd.LoadStateDict(foreign), "unexpected state", "momentum_buffer");
        Rejects(() => sgd.LoadStateDict(adam.StateDict()), "hyper-parameter 'momentum'");
    }

    [Fact]
    public void SchedulerLoadRejectsADifferentNumberOfGroups()
    {
        var ps = Params();
        var opt = new SGD([ps[0]], 0.1);
        opt.AddParamGroup([ps[1]]);
        var saved = new StepLR(opt, 3).StateDict();
        Rejects(() => new StepLR(new SGD(Copies(ps), 0.1), 3).LoadStateDict(saved), "StepLR.LoadStateDict", "2 base lrs", "1 parameter groups");
    }
}
