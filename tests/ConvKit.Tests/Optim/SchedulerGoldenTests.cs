using System.Text.Json;
using ConvKit.Optim;
using Xunit;

namespace ConvKit.Tests.Optim;

/// <summary>
/// The lr (and cycled momentum) of every group after construction and after each of 40 steps against PyTorch 1.13
/// (sched.json.gz), for StepLR, CosineAnnealingLR and OneCycleLR, including the step at which OneCycleLR gives up.
/// </summary>
public class SchedulerGoldenTests
{
    public static IEnumerable<object[]> Cases => TrainFixtures.Ids("sched");

    [Theory, MemberData(nameof(Cases))]
    public void SequenceMatchesPyTorch(string id)
    {
        var c = TrainFixtures.Case("sched", id);
        var lrs = c.GetProperty("group_lrs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var groups = lrs.Select(_ => new[] { Tensor.Zeros(2).RequiresGrad_() }).ToArray();
        var overrides = lrs.Select(lr => (JsonElement?)JsonDocument.Parse($"{{\"lr\": {lr:R}}}").RootElement).ToArray();
        var opt = TrainFixtures.Build(c.GetProperty("optimizer").GetString()!, c.GetProperty("optimizer_args"), groups, overrides);
        var args = c.GetProperty("args");
        int? errorStep = c.GetProperty("error_step").ValueKind == JsonValueKind.Number ? c.GetProperty("error_step").GetInt32() : null;
        if (errorStep == 0)
        {
            Assert.ThrowsAny<ArgumentException>(() => Build(c.GetProperty("scheduler").GetString()!, opt, args));
            return;
        }
        var sched = Build(c.GetProperty("scheduler").GetString()!, opt, args);
        var expectedLr = c.GetProperty("lr").EnumerateArray().ToArray();
        var expectedMomentum = c.GetProperty("momentum").EnumerateArray().ToArray();
        for (int k = 0; k < expectedLr.Length; k++)
        {
            if (k > 0) { opt.Step(); sched.Step(); }
            AssertClose(expectedLr[k], sched.LastLr, $"{id} lr after step {k}");
            AssertClose(expectedMomentum[k], opt.ParamGroups.Select(g => ((IMomentumParamGroup)g).Momentum).ToArray(), $"{id} momentum after step {k}");
        }
        if (errorStep is int e)
        {
            Assert.Equal(expectedLr.Length, e);
            Assert.Throws<InvalidOperationException>(sched.Step);
        }
    }

    private static LRScheduler Build(string name, Optimizer opt, JsonElement a)
    {
        double D(string key, double fallback) => a.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool B(string key, bool fallback) => a.TryGetProperty(key, out var v) ? v.GetBoolean() : fallback;
        return name switch
        {
            "StepLR" => new StepLR(opt, a.GetProperty("step_size").GetInt32(), D("gamma", 0.1)),
            "CosineAnnealingLR" => new CosineAnnealingLR(opt, a.GetProperty("T_max").GetInt32(), D("eta_min", 0)),
            "OneCycleLR" => new OneCycleLR(opt,
                a.GetProperty("max_lr") is { ValueKind: JsonValueKind.Array } list
                    ? list.EnumerateArray().Select(v => v.GetDouble()).ToArray()
                    : Enumerable.Repeat(a.GetProperty("max_lr").GetDouble(), opt.ParamGroups.Count).ToArray(),
                a.GetProperty("total_steps").GetInt32(), D("pct_start", 0.3), a.TryGetProperty("anneal_strategy", out var s) ? s.GetString()! : "cos",
                D("div_factor", 25), D("final_div_factor", 1e4), B("three_phase", false), B("cycle_momentum", true),
                D("base_momentum", 0.85), D("max_momentum", 0.95)),
            _ => throw new NotSupportedException(name),
        };
    }

    private static void AssertClose(JsonElement expected, IReadOnlyList<double> actual, string what)
    {
        var e = expected.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(e.Length, actual.Count);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - actual[i]) <= 1e-12 * Math.Max(1e-6, Math.Abs(e[i])), $"{what} group {i}: {actual[i]:R}, PyTorch {e[i]:R}");
    }
}
