namespace ConvKit.Onnx;

/// <summary>BatchNormalization (inference), the pointwise activations, Softmax, Dropout (inference) and Identity.</summary>
internal static class ActivationImport
{
    public static OpKernel BatchNormalization(NodeContext c)
    {
        c.Arity(5, 5);
        float eps = c.Float("epsilon", 1e-5f);
        c.Float("momentum", 0.9f); // only used in training mode
        c.RequireDefault("training_mode", 0);
        c.RequireDefault("spatial", 1);
        c.Ints("consumed_inputs"); // opset 1 legacy, no effect
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            var y = F.BatchNorm(x, inputs.FloatAt(3, c), inputs.FloatAt(4, c), inputs.FloatAt(1, c), inputs.FloatAt(2, c), training: false, eps: eps);
            return OpHelpers.One(y);
        };
    }

    /// <summary>A one-input, one-output op with no attributes.</summary>
    public static Func<NodeContext, OpKernel> Unary(Func<Tensor, Tensor> f) => c =>
    {
        c.Arity(1, 1);
        return inputs => OpHelpers.One(f(inputs.FloatAt(0, c)));
    };

    public static OpKernel LeakyRelu(NodeContext c)
    {
        c.Arity(1, 1);
        float alpha = c.Float("alpha", 0.01f);
        return inputs => OpHelpers.One(F.LeakyRelu(inputs.FloatAt(0, c), alpha));
    }

    public static OpKernel Clip(NodeContext c)
    {
        c.Arity(1, 3);
        float? attrMin = c.Has("min") ? c.Float("min", 0) : null, attrMax = c.Has("max") ? c.Float("max", 0) : null;
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            float? lo = attrMin, hi = attrMax;
            if (c.Opset >= 11)
            {
                lo = Bound(inputs, 1, c);
                hi = Bound(inputs, 2, c);
            }
            if (lo == 0f && hi == 6f) return OpHelpers.One(F.Relu6(x));
            if (lo == 0f && hi is null) return OpHelpers.One(F.Relu(x));
            return OpHelpers.One(lo is null && hi is null ? x : x.Clamp(lo, hi));
        };
    }

    private static float? Bound(OnnxValue?[] inputs, int i, NodeContext c)
    {
        if (i >= inputs.Length || inputs[i] is not { } v) return null;
        if (v.Count != 1) throw new OnnxEvaluationException($"ONNX Clip node '{c.Name}': input {i} must be a scalar, got {v}");
        return v.AsFloat().ToArray()[0];
    }

    public static OpKernel Softmax(NodeContext c)
    {
        c.Arity(1, 1);
        bool legacy = c.Opset < 13;
        int axis = c.SmallInt("axis", legacy ? 1 : -1);
        return inputs =>
        {
            var x = inputs.FloatAt(0, c);
            int a = axis < 0 ? axis + x.Dim : axis;
            if (a < 0 || a >= Math.Max(x.Dim, 1)) throw new OnnxEvaluationException($"ONNX Softmax node '{c.Name}': axis {axis} out of range for [{string.Join(", ", x.Shape)}]");
            if (!legacy || a == x.Dim - 1) return OpHelpers.One(F.Softmax(x, a));
            // Opset < 13 coerces the input to 2-D [prod(:axis), prod(axis:)] before the softmax.
            var shape = x.Shape.ToArray();
            int outer = shape[..a].Aggregate(1, (p, q) => p * q);
            return OpHelpers.One(F.Softmax(x.Reshape(outer, -1), 1).Reshape(shape));
        };
    }

    public static OpKernel Dropout(NodeContext c)
    {
        c.Arity(1, 3);
        c.Float("ratio", 0.5f);
        c.RequireDefault("is_test", 1);
        c.Int("seed", 0);
        return inputs =>
        {
            if (inputs.Length > 2 && inputs[2] is { } mode && mode.AsFloat().ToArray().Any(v => v != 0))
                throw c.Unsupported(null, "training_mode=true is not supported (Dropout is imported for inference)");
            return [inputs.Required(0, c)];
        };
    }

    public static OpKernel Identity(NodeContext c)
    {
        c.Arity(1, 1);
        return inputs => [inputs.Required(0, c)];
    }
}
