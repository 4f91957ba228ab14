using ConvKit.Nn;
using Xunit;

namespace ConvKit.Tests.Nn;

public class ForwardHookTests
{
    [Fact]
    public void HookSeesTheOutputOfANestedLayerAndStopsAfterDispose()
    {
        var net = new Sequential(new Conv2d(1, 2, 3, padding: 1), new Sequential(new ReLU(), new Conv2d(2, 3, 1)));
        var target = net.NamedModules().Single(m => m.Name == "1.0").Module;
        var seen = new List<(Module Module, Tensor Input, Tensor Output)>();
        var x = Tensor.Ones(1, 1, 4, 4);
        using (target.RegisterForwardHook((m, i, o) => seen.Add((m, i, o))))
            net.Call(x);
        Assert.Single(seen);
        Assert.Same(target, seen[0].Module);
        Assert.Equal(new[] { 1, 2, 4, 4 }, seen[0].Output.Shape.ToArray());
        Assert.Equal(F.Relu(seen[0].Input).ToArray(), seen[0].Output.ToArray());
        net.Call(x);
        Assert.Single(seen);
    }

    [Fact]
    public void HooksRunInRegistrationOrderAndDisposeIsIdempotent()
    {
        var relu = new ReLU();
        var order = new List<int>();
        var first = relu.RegisterForwardHook((_, _, _) => order.Add(1));
        using var second = relu.RegisterForwardHook((_, _, _) => order.Add(2));
        relu.Call(Tensor.Ones(2));
        first.Dispose();
        first.Dispose();
        relu.Call(Tensor.Ones(2));
        Assert.Equal(new[] { 1, 2, 2 }, order);
    }
}
