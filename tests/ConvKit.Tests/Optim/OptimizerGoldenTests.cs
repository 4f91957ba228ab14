using System.Text.Json;
using ConvKit.Optim;
using Xunit;

namespace ConvKit.Tests.Optim;

/// <summary>
/// Parameter trajectories of SGD, Adam and AdamW under seeded gradients against PyTorch 1.13 (optim.json.gz):
/// after every step each parameter within 1e-5 relative to its magnitude, and the final per-parameter state
/// (the trajectories currently agree bit for bit: same float32 rounding, fused multiply-adds where PyTorch fuses).
/// </summary>
public class OptimizerGoldenTests
{
    public const double Tolerance = 1e-5;

    public static IEnumerable<object[]> Cases => TrainFixtures.Ids("optim");

    [Theory, MemberData(nameof(Cases))]
    public void TrajectoryMatchesPyTorch(string id)
    {
        var c = TrainFixtures.Case("optim", id);
        var ps = c.GetProperty("params").EnumerateArray().Select(p => TrainFixtures.Tensor(p).RequiresGrad_()).ToArray();
        var groupsJson = c.GetProperty("groups");
        var groups = groupsJson.ValueKind == JsonValueKind.Array
            ? groupsJson.EnumerateArray().Select(g => g.GetProperty("params").EnumerateArray().Select(i => ps[i.GetInt32()]).ToArray()).ToArray()
            : [ps];
        var overrides = groupsJson.ValueKind == JsonValueKind.Array
            ? groupsJson.EnumerateArray().Select(g => (JsonElement?)g).ToArray()
            : [null];
        string name = c.GetProperty("optimizer").GetString()!;
        var args = c.GetProperty("args");
        if (TrainFixtures.Error(c) is { } error)
        {
            var ex = Record.Exception(() => TrainFixtures.Build(name, args, groups, overrides));
            Assert.True(ex is ArgumentException, $"{id}: PyTorch raises \"{error}\", ConvKit gave {ex?.GetType().Name ?? "no error"}");
            return;
        }
        var opt = TrainFixtures.Build(name, args, groups, overrides);
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        var steps = c.GetProperty("steps").EnumerateArray().ToArray();
        for (int k = 0; k < steps.Length; k++)
        {
            var row = grads[k].EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++)
                ps[i].Grad = row[i].ValueKind == JsonValueKind.Null ? null : TrainFixtures.Tensor(row[i]);
            opt.Step();
            var expected = steps[k].EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++)
                AssertClose(TrainFixtures.Tensor(expected[i]), ps[i], $"{id} step {k + 1} param {i}");
        }
        var state = opt.StateDict().State;
        var expectedState = c.GetProperty("state").EnumerateArray().ToArray();
        var optimizerOrder = groups.SelectMany(g => g).ToList();  // state dict indices run over the groups
        for (int i = 0; i < ps.Length; i++)
        {
            var keys = expectedState[i].EnumerateObject().Select(p => p.Name).Order().ToArray();
            int index = optimizerOrder.FindIndex(p => ReferenceEquals(p, ps[i]));
            var actual = state.TryGetValue(index, out var s) ? s : new Dictionary<string, StateTensor>();
            Assert.Equal(keys, actual.Keys.Order().ToArray());
            foreach (var key in keys)
                AssertClose(TrainFixtures.Tensor(expectedState[i].GetProperty(key)), Tensor.FromArray(actual[key].Data, actual[key].Shape), $"{id} state {i} {key}");
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= Tolerance * Math.Max(1, Math.Abs(e[i])), $"{what} element {i}: {a[i]}, PyTorch {e[i]}");
    }
}
