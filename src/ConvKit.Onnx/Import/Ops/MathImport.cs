namespace ConvKit.Onnx;

/// <summary>Broadcasting Add/Sub/Mul/Div (float, or int64 for shape arithmetic), Gemm, MatMul and ReduceMean.</summary>
internal static class MathImport
{
    public static Func<NodeContext, OpKernel> Binary(Func<Tensor, Tensor, Tensor> f, Func<long, long, long> ints) => c =>
    {
        c.Arity(2, 2);
        c.Int("broadcast", 1); c.Int("axis", 0); // opset < 7 legacy attributes; numpy broadcasting is used
        return inputs =>
        {
            var a = inputs.Required(0, c);
            var b = inputs.Required(1, c);
            if (a.IsInt && b.IsInt) return [IntBinary(a, b, ints, c)];
            return OpHelpers.One(f(a.AsFloat(), b.AsFloat()));
        };
    };

    private static OnnxValue IntBinary(OnnxValue a, OnnxValue b, Func<long, long, long> f, NodeContext c)
    {
        var (x, y) = (a.Ints!, b.Ints!);
        if (x.Length == y.Length && (a.Rank == b.Rank || y.Length != 1))
            return OnnxValue.Of(x.Zip(y, f).ToArray(), a.Rank >= b.Rank ? a.Shape : b.Shape);
        if (y.Length == 1 && b.Rank <= a.Rank) return OnnxValue.Of(x.Select(v => f(v, y[0])).ToArray(), a.Shape);
        if (x.Length == 1 && a.Rank <= b.Rank) return OnnxValue.Of(y.Select(v => f(x[0], v)).ToArray(), b.Shape);
        throw c.Unsupported(null, $"integer broadcasting of {a} and {b} is not supported");
    }

    public static long IntDiv(long a, long b) => b == 0 ? throw new OnnxEvaluationException("integer division by zero") : a / b;

    public static OpKernel Gemm(NodeContext c)
    {
        c.Arity(2, 3);
        float alpha = c.Float("alpha", 1f), beta = c.Float("beta", 1f);
        bool transA = c.Int("transA", 0) != 0, transB = c.Int("transB", 0) != 0;
        c.Int("broadcast", 1);
        return inputs =>
        {
            var a = inputs.FloatAt(0, c);
            var b = inputs.FloatAt(1, c);
            var bias = inputs.OptionalFloat(2);
            if (a.Dim != 2 || b.Dim != 2)
                throw new OnnxEvaluationException($"ONNX Gemm node '{c.Name}': expected 2-D A and B, got [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
            if (transA) a = a.T();
            if (alpha == 1f && beta == 1f && transB && bias is { Dim: 1 }) return OpHelpers.One(F.Linear(a, b, bias));
            var y = a.Matmul(transB ? b.T() : b);
            if (alpha != 1f) y = y * alpha;
            if (bias != null) y = y + (beta == 1f ? bias : bias * beta);
            return OpHelpers.One(y);
        };
    }

    public static OpKernel MatMul(NodeContext c)
    {
        c.Arity(2, 2);
        return inputs => OpHelpers.One(inputs.FloatAt(0, c).Matmul(inputs.FloatAt(1, c)));
    }

    public static OpKernel ReduceMean(NodeContext c)
    {
        c.Arity(1, 2);
        var attrAxes = c.SmallInts("axes");
        bool keep = c.Int("keepdims", 1) != 0;
        bool noopEmpty = c.Int("noop_with_empty_axes", 0) != 0;
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            var axes = attrAxes ?? (inputs.Length > 1 && inputs[1] != null ? inputs.IntsAt(1, c).Select(v => (int)v).ToArray() : null);
            if (axes is null || axes.Length == 0)
            {
                if (noopEmpty) return OpHelpers.One(x);
                axes = Enumerable.Range(0, x.Dim).ToArray();
            }
            axes = axes.Select(a => ShapeImport.Axis(a, x.Dim, c)).ToArray();
            return OpHelpers.One(x.Mean(axes, keep));
        };
    }
}
