using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx;

/// <summary>Slice (crops; any step on int64 values, step 1 on float tensors), Constant, ConstantOfShape and Cast.</summary>
internal static class SliceConstantImport
{
    /// <summary>Largest tensor a ConstantOfShape node may create (guards against a fuzzed shape).</summary>
    public const long MaxGeneratedElements = 1L << 26;

    public static OpKernel Slice(NodeContext c)
    {
        c.Arity(1, 5);
        var aStarts = c.Ints("starts"); var aEnds = c.Ints("ends"); var aAxes = c.Ints("axes"); // opset < 10
        return inputs =>
        {
            var v = inputs.Required(0, c);
            var starts = aStarts ?? inputs.IntsAt(1, c);
            var ends = aEnds ?? inputs.IntsAt(2, c);
            var axes = aAxes ?? (inputs.Length > 3 && inputs[3] != null ? inputs.IntsAt(3, c) : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray());
            var steps = inputs.Length > 4 && inputs[4] != null ? inputs.IntsAt(4, c) : Enumerable.Repeat(1L, starts.Length).ToArray();
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
                throw new OnnxEvaluationException($"ONNX Slice node '{c.Name}': starts, ends, axes and steps must have the same length");
            var lists = v.Shape.Select(n => Enumerable.Range(0, n).ToArray()).ToArray();
            var x = v.Float;
            for (int i = 0; i < starts.Length; i++)
            {
                int axis = ShapeImport.Axis(axes[i], v.Rank, c), dim = v.Shape[axis];
                long step = steps[i];
                if (step == 0) throw new OnnxEvaluationException($"ONNX Slice node '{c.Name}': step must not be 0");
                long s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
                if (step > 0) { s = Math.Clamp(s, 0, dim); e = Math.Clamp(e, 0, dim); }
                else { s = Math.Clamp(s, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1); }
                var idx = new List<int>();
                for (long j = s; step > 0 ? j < e : j > e; j += step) idx.Add((int)j);
                lists[axis] = idx.ToArray();
                if (x != null)
                {
                    if (step != 1) throw c.Unsupported("steps", $"steps other than 1 on float tensors are not supported, got {step}");
                    x = x.Narrow(axis, (int)s, idx.Count);
                }
            }
            if (x != null) return OpHelpers.One(x);
            return [OnnxValue.Of(IntTensorOps.Index(v.Ints!, v.Shape, lists), lists.Select(l => l.Length).ToArray())];
        };
    }

    public static OpKernel Constant(NodeContext c)
    {
        c.Arity(0, 0);
        OnnxValue value;
        if (c.TensorAttr("value") is { } t) value = OnnxTensorReader.Read(t, $"ONNX Constant node '{c.Name}'");
        else if (c.Has("value_float")) value = OnnxValue.Of(Tensor.Scalar(c.Float("value_float", 0)));
        else if (c.Floats("value_floats") is { } fs) value = OnnxValue.Of(Tensor.FromArray(fs, fs.Length));
        else if (c.Has("value_int")) value = OnnxValue.Of([c.Int("value_int", 0)], []);
        else if (c.Ints("value_ints") is { } ints) value = OnnxValue.Vector(ints);
        else throw c.Unsupported(null, "expected a value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)");
        return _ => [value];
    }

    public static OpKernel ConstantOfShape(NodeContext c)
    {
        c.Arity(1, 1);
        var fill = c.TensorAttr("value") is { } t ? OnnxTensorReader.Read(t, $"ONNX ConstantOfShape node '{c.Name}'") : OnnxValue.Of(Tensor.Scalar(0));
        if (fill.Count != 1) throw new OnnxFormatException($"ONNX ConstantOfShape node '{c.Name}': value must hold one element, got {fill}");
        return inputs =>
        {
            var dims = inputs.IntsAt(0, c);
            if (dims.Any(d => d < 0) || dims.Aggregate(1.0, (a, b) => a * b) > MaxGeneratedElements)
                throw new OnnxEvaluationException($"ONNX ConstantOfShape node '{c.Name}': shape [{string.Join(", ", dims)}] must be non-negative with at most {MaxGeneratedElements} elements");
            var shape = dims.Select(d => (int)d).ToArray();
            int n = shape.Aggregate(1, (a, b) => a * b);
            return [fill.IsInt ? OnnxValue.Of(Enumerable.Repeat(fill.Ints![0], n).ToArray(), shape)
                               : OnnxValue.Of(Tensor.Full(shape, fill.Float!.ToArray()[0]))];
        };
    }

    public static OpKernel Cast(NodeContext c)
    {
        c.Arity(1, 1);
        var to = (TensorProto.Types.DataType)c.Int("to", 0);
        c.Int("saturate", 1);
        bool toFloat = to is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16;
        bool toInt = to is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int8
            or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool or TensorProto.Types.DataType.Int16;
        if (!toFloat && !toInt) throw c.Unsupported("to", $"casting to {to} is not supported");
        return inputs =>
        {
            var v = inputs.Required(0, c);
            if (toFloat) return v.IsInt ? OpHelpers.One(v.AsFloat()) : [v];
            if (v.IsInt) return [to == TensorProto.Types.DataType.Bool ? OnnxValue.Of(v.Ints!.Select(x => x != 0 ? 1L : 0L).ToArray(), v.Shape) : v];
            var f = v.Float!.ToArray();
            return [OnnxValue.Of(f.Select(x => to == TensorProto.Types.DataType.Bool ? (x != 0 ? 1L : 0L) : float.IsFinite(x) ? (long)x : 0L).ToArray(), v.Shape)];
        };
    }
}
