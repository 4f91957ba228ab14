namespace ConvKit;

public partial class Tensor
{
    /// <summary>Resolves one -1 entry and checks the element count, as <c>torch.Tensor.view</c>'s shape inference.</summary>
    internal static int[] InferShape(int[] shape, int numel, string op)
    {
        var s = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be inferred");
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"{op}: invalid shape dimension {s[i]}");
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: shape '{ShapeUtil.Format(shape)}' is invalid for input of size {numel}");
            s[infer] = (int)(numel / known);
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: shape '{ShapeUtil.Format(shape)}' is invalid for input of size {numel}");
        return s;
    }

    /// <summary>Strides for viewing this tensor with a new shape without copying, or null (PyTorch's <c>computeStride</c>).</summary>
    private int[]? ViewStrides(int[] newShape)
    {
        if (IsContiguous) return ShapeUtil.ContiguousStrides(newShape);
        if (Numel == 0) return ShapeUtil.ContiguousStrides(newShape);
        var newStrides = new int[newShape.Length];
        int viewD = newShape.Length - 1;
        long chunkBase = Strides.Length > 0 ? Strides[^1] : 1;
        long tensorNumel = 1, viewNumel = 1;
        for (int d = Sizes.Length - 1; d >= 0; d--)
        {
            tensorNumel *= Sizes[d];
            if (d == 0 || (Sizes[d - 1] != 1 && Strides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    newStrides[viewD] = (int)(viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0)
                {
                    chunkBase = Strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }

    /// <summary>A view with a new shape (<c>tensor.view</c>); one entry may be -1. Fails when the strides do not allow it.</summary>
    public Tensor View(params int[] shape)
    {
        var s = InferShape(shape, Numel, "View");
        var st = ViewStrides(s) ?? throw new ArgumentException(
            $"View: view size {ShapeUtil.Format(s)} is not compatible with input tensor's size {ShapeUtil.Format(Sizes)} and stride {ShapeUtil.Format(Strides)} (at least one dimension spans across two contiguous subspaces). Use Reshape instead.");
        return MakeView(Offset, s, st, ReshapeBack());
    }

    /// <summary>A tensor with a new shape (<c>tensor.reshape</c>): a view when possible, else a copy.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = InferShape(shape, Numel, "Reshape");
        var st = ViewStrides(s);
        return st != null ? MakeView(Offset, s, st, ReshapeBack()) : Contiguous().MakeView(0, s, ShapeUtil.ContiguousStrides(s), ReshapeBack());
    }

    /// <summary>Reorders dimensions (<c>tensor.permute</c>), a view.</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Dim)
            throw new ArgumentException($"Permute: number of dims don't match in permute: got {dims.Length} dims for a tensor of shape {ShapeUtil.Format(Sizes)}");
        var seen = new bool[Dim];
        var s = new int[Dim];
        var st = new int[Dim];
        for (int i = 0; i < Dim; i++)
        {
            int d = ShapeUtil.WrapDim(dims[i], Dim, "Permute");
            if (seen[d]) throw new ArgumentException($"Permute: repeated dim {d} in permute({string.Join(", ", dims)})");
            seen[d] = true;
            s[i] = Sizes[d];
            st[i] = Strides[d];
        }
        var inverse = new int[Dim];
        for (int i = 0; i < Dim; i++) inverse[ShapeUtil.WrapDim(dims[i], Dim, "Permute")] = i;
        return MakeView(Offset, s, st, g => g.Permute(inverse));
    }

    /// <summary>Swaps two dimensions (<c>tensor.transpose</c>), a view.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var p = Enumerable.Range(0, Dim).ToArray();
        if (Dim == 0) return this;
        int a = ShapeUtil.WrapDim(dim0, Dim, "Transpose"), b = ShapeUtil.WrapDim(dim1, Dim, "Transpose");
        (p[a], p[b]) = (p[b], p[a]);
        return Permute(p);
    }

    /// <summary>The transpose of a 2-D tensor (<c>tensor.t()</c>).</summary>
    public Tensor T()
    {
        if (Dim > 2) throw new ArgumentException($"T: expects a tensor with <= 2 dimensions, but self is {Dim}D");
        return Dim < 2 ? this : Transpose(0, 1);
    }

    /// <summary>A contiguous tensor with the same values: this tensor itself when already contiguous.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var dst = Empty(Sizes);
        StridedLoop.Copy(this, dst.Storage, 0);
        return Autograd.Record(dst, this, g => g);
    }

    /// <summary>A copy that owns its storage (<c>tensor.clone()</c>).</summary>
    public Tensor Clone()
    {
        var dst = Empty(Sizes);
        StridedLoop.Copy(this, dst.Storage, 0);
        return Autograd.Record(dst, this, g => g);
    }

    /// <summary>The slice [start, start+length) of one dimension (<c>tensor.narrow</c>), a view.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        if (Dim == 0) throw new ArgumentException("Narrow: narrow() cannot be applied to a 0-dim tensor.");
        int d = ShapeUtil.WrapDim(dim, Dim, "Narrow");
        if (start < 0) start += Sizes[d];
        if (start < 0 || length < 0 || start + length > Sizes[d])
            throw new ArgumentException($"Narrow: start ({start}) + length ({length}) exceeds dimension size ({Sizes[d]}) of shape {ShapeUtil.Format(Sizes)}");
        var s = (int[])Sizes.Clone();
        s[d] = length;
        var inputShape = Sizes;
        return MakeView(Offset + start * Strides[d], s, (int[])Strides.Clone(), g =>
        {
            var full = Zeros(inputShape);
            StridedLoop.Copy(g, full.Narrow(d, start, length));
            return full;
        });
    }

    /// <summary>One index of one dimension, removing that dimension (<c>tensor.select</c>), a view.</summary>
    public Tensor Select(int dim, int index)
    {
        if (Dim == 0) throw new ArgumentException("Select: select() cannot be applied to a 0-dim tensor.");
        int d = ShapeUtil.WrapDim(dim, Dim, "Select");
        if (index < -Sizes[d] || index >= Sizes[d])
            throw new ArgumentException($"Select: index {index} out of range for tensor of size {ShapeUtil.Format(Sizes)} at dimension {d}");
        if (index < 0) index += Sizes[d];
        var s = Sizes.Where((_, i) => i != d).ToArray();
        var st = Strides.Where((_, i) => i != d).ToArray();
        var inputShape = Sizes;
        int at = index;
        return MakeView(Offset + index * Strides[d], s, st, g =>
        {
            var full = Zeros(inputShape);
            StridedLoop.Copy(g, full.Select(d, at));
            return full;
        });
    }

    /// <summary>Removes all dimensions of size 1 (<c>tensor.squeeze()</c>).</summary>
    public Tensor Squeeze()
    {
        var keep = Enumerable.Range(0, Dim).Where(i => Sizes[i] != 1).ToArray();
        return MakeView(Offset, keep.Select(i => Sizes[i]).ToArray(), keep.Select(i => Strides[i]).ToArray(), ReshapeBack());
    }

    /// <summary>Removes dimension <paramref name="dim"/> if its size is 1 (<c>tensor.squeeze(dim)</c>).</summary>
    public Tensor Squeeze(int dim)
    {
        if (Dim == 0) return this;
        int d = ShapeUtil.WrapDim(dim, Dim, "Squeeze");
        if (Sizes[d] != 1) return this;
        return MakeView(Offset, Sizes.Where((_, i) => i != d).ToArray(), Strides.Where((_, i) => i != d).ToArray(), ReshapeBack());
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (<c>tensor.unsqueeze</c>).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.WrapDim(dim, Dim + 1, "Unsqueeze");
        var s = Sizes.ToList();
        var st = Strides.ToList();
        s.Insert(d, 1);
        st.Insert(d, d < Dim ? Strides[d] * Sizes[d] : 1);
        return MakeView(Offset, s.ToArray(), st.ToArray(), ReshapeBack());
    }

    /// <summary>Flattens dimensions startDim..endDim into one (<c>torch.flatten</c>).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Dim == 0) return Reshape(1);
        int a = ShapeUtil.WrapDim(startDim, Dim, "Flatten"), b = ShapeUtil.WrapDim(endDim, Dim, "Flatten");
        if (a > b) throw new ArgumentException($"Flatten: flatten() has invalid args: start_dim ({startDim}) cannot come after end_dim ({endDim})");
        var s = new List<int>();
        for (int i = 0; i < a; i++) s.Add(Sizes[i]);
        int prod = 1;
        for (int i = a; i <= b; i++) prod *= Sizes[i];
        s.Add(prod);
        for (int i = b + 1; i < Dim; i++) s.Add(Sizes[i]);
        return Reshape(s.ToArray());
    }

    /// <summary>Broadcasts size-1 dimensions to a larger shape without copying (<c>tensor.expand</c>); -1 keeps a size.</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Dim)
            throw new ArgumentException($"Expand: the number of sizes provided ({shape.Length}) must be greater or equal to the number of dimensions in the tensor ({Dim})");
        var s = new int[shape.Length];
        var st = new int[shape.Length];
        int lead = shape.Length - Dim;
        for (int i = 0; i < shape.Length; i++)
        {
            int own = i < lead ? 1 : Sizes[i - lead];
            int target = shape[i] == -1 && i >= lead ? own : shape[i];
            if (target < 0) throw new ArgumentException($"Expand: invalid size {shape[i]} at dimension {i}");
            if (own != target && own != 1)
                throw new ArgumentException($"Expand: the expanded size of the tensor ({target}) must match the existing size ({own}) at non-singleton dimension {i}.  Target sizes: {ShapeUtil.Format(shape)}.  Tensor sizes: {ShapeUtil.Format(Sizes)}");
            s[i] = target;
            st[i] = i < lead || own != target ? 0 : Strides[i - lead];
        }
        var inputShape = Sizes;
        return MakeView(Offset, s, st, g => g.SumToShape(inputShape));
    }

    /// <summary>Converts to int64 by truncation toward zero (<c>tensor.long()</c>).</summary>
    public LongTensor ToLong()
    {
        var v = ToArray();
        var d = new long[v.Length];
        for (int i = 0; i < v.Length; i++) d[i] = (long)v[i];
        return new LongTensor(d, (int[])Sizes.Clone());
    }

    private Func<Tensor, Tensor> ReshapeBack()
    {
        var inputShape = Sizes;
        return g => g.Reshape(inputShape);
    }

    private Tensor MakeView(int offset, int[] sizes, int[] strides, Func<Tensor, Tensor> backward) =>
        Autograd.Record(new Tensor(Storage, offset, sizes, strides), this, backward);
}
