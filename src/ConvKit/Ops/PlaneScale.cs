using System.Numerics.Tensors;

namespace ConvKit;

/// <summary>
/// a · s where s holds one value per plane of a: s has a's leading sizes and then ones, as a gate [N, C, 1, 1] on
/// [N, C, H, W] (squeeze-excitation, channel attention). The broadcasting product gives the same forward; this one
/// computes the gate's gradient as one dot product per plane, where the broadcast backward materialises g · a at
/// full size and then reduces it, and it runs planes rather than broadcast rows through the element-wise driver.
/// </summary>
internal static class PlaneScale
{
    /// <summary>Planes of a that <paramref name="gate"/> scales one value each, or 0 when the shapes are not that pattern.</summary>
    public static int Planes(Tensor a, Tensor gate)
    {
        if (a.Dim != gate.Dim || a.Dim < 2 || !a.IsContiguous || !gate.IsContiguous || gate.Numel == 0 || a.Numel == gate.Numel) return 0;
        int d = 0;
        while (d < a.Dim && gate.Sizes[d] == a.Sizes[d]) d++;
        for (int i = d; i < a.Dim; i++)
            if (gate.Sizes[i] != 1) return 0;
        return gate.Numel;
    }

    /// <summary>a · gate with its backward; <paramref name="planes"/> from <see cref="Planes"/>.</summary>
    public static Tensor Multiply(Tensor a, Tensor gate, int planes)
    {
        var y = Scale(a, gate, planes);
        return Autograd.Record(y, [a, gate], g =>
        {
            var gc = g.Contiguous();
            return [a.RequiresGrad ? Scale(gc, gate, planes) : null, gate.RequiresGrad ? PlaneDots(gc, a, gate, planes) : null];
        });
    }

    private static Tensor Scale(Tensor a, Tensor gate, int planes)
    {
        var y = Tensor.Empty(a.Sizes);
        float[] src = a.Storage, dst = y.Storage, s = gate.Storage;
        int len = a.Numel / planes, ao = a.Offset, so = gate.Offset;
        Parallelism.For(planes, p => TensorPrimitives.Multiply(src.AsSpan(ao + p * len, len), s[so + p], dst.AsSpan(p * len, len)));
        return y;
    }

    private static Tensor PlaneDots(Tensor g, Tensor a, Tensor gate, int planes)
    {
        var ds = Tensor.Empty(gate.Sizes);
        float[] gs = g.Storage, xs = a.Storage, d = ds.Storage;
        int len = a.Numel / planes, go = g.Offset, ao = a.Offset;
        Parallelism.For(planes, p => d[p] = TensorPrimitives.Dot(gs.AsSpan(go + p * len, len), xs.AsSpan(ao + p * len, len)));
        return ds;
    }
}
