namespace ConvKit.Onnx;

/// <summary>
/// Shape, Gather, Unsqueeze, Squeeze, Concat, Reshape, Flatten, Slice and Transpose on float tensors (as views,
/// so autograd flows) and on int64 values (the shape subgraphs PyTorch exports, evaluated eagerly).
/// </summary>
internal static class ShapeImport
{
    public static int Axis(long axis, int rank, NodeContext c)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1))
            throw new OnnxEvaluationException($"ONNX {c.Op} node '{c.Name}': axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    private static string Fmt(IEnumerable<int> s) => "[" + string.Join(", ", s) + "]";

    public static OpKernel Shape(NodeContext c)
    {
        c.Arity(1, 1);
        long start = c.Int("start", 0);
        long? end = c.Has("end") ? c.Int("end", 0) : null;
        return inputs =>
        {
            var s = inputs.Required(0, c).Shape;
            int r = s.Length;
            int lo = (int)Math.Clamp(start < 0 ? start + r : start, 0, r), hi = (int)Math.Clamp(end is long e ? (e < 0 ? e + r : e) : r, 0, r);
            return [OnnxValue.Vector(s[lo..Math.Max(lo, hi)].Select(v => (long)v).ToArray())];
        };
    }

    public static OpKernel Gather(NodeContext c)
    {
        c.Arity(2, 2);
        long axisAttr = c.Int("axis", 0);
        return inputs =>
        {
            var data = inputs.Required(0, c);
            var idxVal = inputs.Required(1, c);
            var idx = idxVal.AsInts($"ONNX Gather node '{c.Name}' indices");
            int axis = Axis(axisAttr, data.Rank, c);
            int size = data.Shape[axis];
            var ix = idx.Select(i => (int)(i < 0 ? i + size : i)).ToArray();
            if (idx.Any(i => i < -size || i >= size))
                throw new OnnxEvaluationException($"ONNX Gather node '{c.Name}': indices [{string.Join(", ", idx)}] out of range for axis {axis} of size {size}");
            if (idxVal.Rank > 1) throw c.Unsupported(null, $"indices of rank {idxVal.Rank} are not supported (expected a scalar or a vector)");
            if (data.IsInt)
            {
                var lists = data.Shape.Select(n => Enumerable.Range(0, n).ToArray()).ToArray();
                lists[axis] = ix;
                var outShape = data.Shape.ToList();
                var r = IntTensorOps.Index(data.Ints!, data.Shape, lists);
                if (idxVal.Rank == 0) outShape.RemoveAt(axis); else outShape[axis] = ix.Length;
                return [OnnxValue.Of(r, outShape.ToArray())];
            }
            var x = data.Float!;
            if (idxVal.Rank == 0) return OpHelpers.One(x.Select(axis, ix[0]));
            return OpHelpers.One(Tensor.Cat(ix.Select(i => x.Narrow(axis, i, 1)).ToArray(), axis));
        };
    }

    private static int[] AxesFrom(OnnxValue?[] inputs, int[]? attr, NodeContext c) =>
        attr ?? (inputs.Length > 1 && inputs[1] != null ? inputs.IntsAt(1, c).Select(v => (int)Math.Clamp(v, int.MinValue, int.MaxValue)).ToArray() : []);

    public static OpKernel Unsqueeze(NodeContext c)
    {
        c.Arity(1, 2);
        var attr = c.SmallInts("axes");
        return inputs =>
        {
            var v = inputs.Required(0, c);
            var axes = AxesFrom(inputs, attr, c);
            int rank = v.Rank + axes.Length;
            var norm = axes.Select(a => Axis(a, rank, c)).OrderBy(a => a).ToArray();
            if (norm.Distinct().Count() != norm.Length) throw new OnnxEvaluationException($"ONNX Unsqueeze node '{c.Name}': repeated axes {Fmt(axes)}");
            var shape = v.Shape.ToList();
            foreach (var a in norm) shape.Insert(a, 1);
            return [Reshaped(v, shape.ToArray())];
        };
    }

    public static OpKernel Squeeze(NodeContext c)
    {
        c.Arity(1, 2);
        var attr = c.SmallInts("axes");
        return inputs =>
        {
            var v = inputs.Required(0, c);
            var axes = AxesFrom(inputs, attr, c).Select(a => Axis(a, v.Rank, c)).ToHashSet();
            if (axes.Count == 0) axes = Enumerable.Range(0, v.Rank).Where(d => v.Shape[d] == 1).ToHashSet();
            if (axes.Any(a => v.Shape[a] != 1)) throw new OnnxEvaluationException($"ONNX Squeeze node '{c.Name}': cannot squeeze axes of size != 1 in {v}");
            return [Reshaped(v, Enumerable.Range(0, v.Rank).Where(d => !axes.Contains(d)).Select(d => v.Shape[d]).ToArray())];
        };
    }

    private static OnnxValue Reshaped(OnnxValue v, int[] shape) =>
        v.IsInt ? OnnxValue.Of(v.Ints!, shape) : OnnxValue.Of(v.Float!.Reshape(shape));

    public static OpKernel Concat(NodeContext c)
    {
        if (c.InputCount < 1) throw new OnnxFormatException($"ONNX Concat node '{c.Name}': expected at least one input");
        c.Arity(1, int.MaxValue);
        long axisAttr = c.Has("axis") ? c.Int("axis", 0) : throw new OnnxFormatException($"ONNX Concat node '{c.Name}': attribute 'axis' is required");
        return inputs =>
        {
            var parts = Enumerable.Range(0, inputs.Length).Select(i => inputs.Required(i, c)).ToList();
            int axis = Axis(axisAttr, parts[0].Rank, c);
            foreach (var p in parts)
                if (p.Rank != parts[0].Rank || Enumerable.Range(0, p.Rank).Any(d => d != axis && p.Shape[d] != parts[0].Shape[d]))
                    throw new OnnxEvaluationException($"ONNX Concat node '{c.Name}': inputs {string.Join(", ", parts)} differ outside axis {axis}");
            if (parts.All(p => p.IsInt)) return [IntTensorOps.Concat(parts, axis)];
            return OpHelpers.One(Tensor.Cat(parts.Select(p => p.AsFloat()).ToArray(), axis));
        };
    }

    public static OpKernel Reshape(NodeContext c)
    {
        c.Arity(1, 2);
        c.RequireDefault("allowzero", 0);
        var attrShape = c.Ints("shape"); // opset < 5
        return inputs =>
        {
            var v = inputs.Required(0, c);
            var target = attrShape ?? inputs.IntsAt(1, c);
            return [Reshaped(v, ResolveShape(v.Shape, target, c))];
        };
    }

    /// <summary>ONNX Reshape's target: 0 copies the input dim, one −1 is inferred; the element count must match.</summary>
    private static int[] ResolveShape(int[] input, long[] target, NodeContext c)
    {
        long count = input.Aggregate(1L, (a, b) => a * b);
        var r = new long[target.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long t = target[i];
            if (t == 0 && i < input.Length) t = input[i];
            if (t == -1)
            {
                if (infer >= 0) throw new OnnxEvaluationException($"ONNX Reshape node '{c.Name}': more than one -1 in [{string.Join(", ", target)}]");
                infer = i; continue;
            }
            if (t < 0 || t > int.MaxValue) throw new OnnxEvaluationException($"ONNX Reshape node '{c.Name}': invalid dim {t} in [{string.Join(", ", target)}]");
            r[i] = t;
            known = t == 0 ? 0 : checked(known * t);
            if (known > count && count > 0) break;
        }
        if (infer >= 0) r[infer] = known == 0 ? 0 : count / known;
        if (r.Aggregate(1L, (a, b) => a * b) != count)
            throw new OnnxEvaluationException($"ONNX Reshape node '{c.Name}': cannot reshape {Fmt(input)} ({count} elements) to [{string.Join(", ", target)}]");
        return r.Select(x => (int)x).ToArray();
    }

    public static OpKernel Flatten(NodeContext c)
    {
        c.Arity(1, 1);
        long axisAttr = c.Int("axis", 1);
        return inputs =>
        {
            var v = inputs.Required(0, c);
            int axis = axisAttr == v.Rank ? v.Rank : Axis(axisAttr, v.Rank, c);
            int outer = v.Shape[..axis].Aggregate(1, (a, b) => a * b), inner = v.Shape[axis..].Aggregate(1, (a, b) => a * b);
            return [Reshaped(v, [outer, inner])];
        };
    }

    public static OpKernel Transpose(NodeContext c)
    {
        c.Arity(1, 1);
        var permAttr = c.SmallInts("perm");
        return inputs =>
        {
            var v = inputs.Required(0, c);
            var perm = permAttr ?? Enumerable.Range(0, v.Rank).Reverse().ToArray();
            if (perm.Length != v.Rank || perm.OrderBy(p => p).Where((p, i) => p != i).Any())
                throw new OnnxEvaluationException($"ONNX Transpose node '{c.Name}': perm {Fmt(perm)} is not a permutation of rank {v.Rank}");
            return [v.IsInt ? IntTensorOps.Transpose(v, perm) : OnnxValue.Of(v.Float!.Permute(perm))];
        };
    }
}
