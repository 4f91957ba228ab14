using System.Text.Json;
using Xunit;

namespace ConvKit.Tests.Golden;

/// <summary>
/// Runs one golden case: rebuilds the inputs, calls ConvKit through <see cref="GoldenOps"/>, compares every
/// output with PyTorch's, back-propagates Σ⟨out_k, g_k⟩ and compares every input gradient. Error cases
/// must raise ArgumentException.
/// </summary>
public static class GoldenRunner
{
    public const double Atol = 1e-4, Rtol = 1e-4;

    public static void Check(GoldenCase c, double atol = Atol, double rtol = Rtol)
    {
        var inputs = new Dictionary<string, Tensor?>();
        var lists = new Dictionary<string, Tensor[]>();
        foreach (var name in c.InputNames)
        {
            if (name == "tensors") { lists[name] = c.InputList(name).Select(t => ToTensor(t, grad: true)).ToArray(); continue; }
            var g = c.Input(name);
            bool wantsGrad = c.Grad(name) != null;
            inputs[name] = g is null ? null : ToTensor(g, wantsGrad);
        }
        if (c.IsError)
        {
            var ex = Record.Exception(() => GoldenOps.Run(c, inputs, lists));
            Assert.True(ex is ArgumentException, $"{c}: PyTorch raises \"{c.Error}\", ConvKit gave {(ex is null ? "no error" : ex.GetType().Name + ": " + ex.Message)}");
            return;
        }
        var outs = GoldenOps.Run(c, inputs, lists);
        Assert.True(outs.Count == c.Outputs.Count, $"{c}: {outs.Count} outputs, PyTorch has {c.Outputs.Count}");
        Tensor? loss = null;
        for (int k = 0; k < outs.Count; k++)
        {
            var expected = c.Outputs[k];
            switch (outs[k])
            {
                case Tensor t:
                    AssertClose(expected.Shape, expected.Values, t.Shape, t.ToArray(), atol, rtol, $"{c} output {k}");
                    if (t.RequiresGrad && k < c.GradOutputSeeds.Count && c.GradOutputSeeds[k] is not null)
                    {
                        var term = (t * ToTensor(c.GradOutput(k), grad: false)).Sum();
                        loss = loss is null ? term : loss + term;
                    }
                    break;
                case LongTensor l:
                    Assert.True(expected.IsInts, $"{c} output {k}: ConvKit returned int64, PyTorch a float tensor");
                    Assert.Equal(expected.Shape, l.Shape.ToArray());
                    Assert.Equal(expected.Ints!, l.ToArray());
                    break;
                default:
                    throw new InvalidOperationException($"{c}: unexpected output type {outs[k]?.GetType().Name}");
            }
        }
        if (!c.HasGrads) return;
        if (loss != null) loss.Backward();
        foreach (var name in c.GradNames)
        {
            if (name == "tensors" || lists.ContainsKey(name))
            {
                var expectedList = c.GradList(name);
                for (int i = 0; i < expectedList.Count; i++)
                    CheckGrad(lists[name][i], expectedList[i], atol, rtol, $"{c} grad {name}[{i}]");
                continue;
            }
            var exp = c.Grad(name);
            if (exp is null || inputs[name] is null) continue;
            CheckGrad(inputs[name]!, exp, atol, rtol, $"{c} grad {name}");
        }
    }

    private static void CheckGrad(Tensor input, GoldenTensor expected, double atol, double rtol, string what)
    {
        var actual = input.Grad?.ToArray() ?? new float[input.Numel];
        AssertClose(expected.Shape, expected.Values, input.Shape, actual, atol, rtol, what);
    }

    public static Tensor ToTensor(GoldenTensor g, bool grad)
    {
        var t = Tensor.FromArray(g.IsInts ? g.Ints!.Select(v => (float)v).ToArray() : g.Values, g.Shape);
        if (grad && !g.IsInts) t.RequiresGrad = true;
        return t;
    }

    public static void AssertClose(int[] expectedShape, float[] expected, IReadOnlyList<int> actualShape, float[] actual, double atol, double rtol, string what)
    {
        Assert.True(expectedShape.SequenceEqual(actualShape),
            $"{what}: shape [{string.Join(", ", actualShape)}], PyTorch [{string.Join(", ", expectedShape)}]");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a) || e == a) continue;
            double excess = Math.Abs(e - a) - (atol + rtol * Math.Abs(e));
            if (double.IsNaN(excess) || excess > worst) { worst = double.IsNaN(excess) ? double.PositiveInfinity : excess; worstAt = i; }
        }
        Assert.True(worstAt < 0, worstAt < 0 ? "" : $"{what}: element {worstAt} is {actual[worstAt]}, PyTorch {expected[worstAt]} (tolerance {atol} + {rtol}·|expected|)");
    }
}
