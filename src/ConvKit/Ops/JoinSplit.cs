namespace ConvKit;

public partial class Tensor
{
    /// <summary>Concatenates along <paramref name="dim"/> (<c>torch.cat</c>); all other sizes must match.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Cat: expected a non-empty list of Tensors");
        var first = tensors[0];
        if (first.Dim == 0) throw new ArgumentException("Cat: zero-dimensional tensor (at position 0) cannot be concatenated");
        int d = ShapeUtil.WrapDim(dim, first.Dim, "Cat");
        int total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Dim != first.Dim)
                throw new ArgumentException($"Cat: Tensors must have same number of dimensions: got {first.Dim} and {t.Dim} (tensor {i} has shape {ShapeUtil.Format(t.Sizes)})");
            for (int k = 0; k < first.Dim; k++)
                if (k != d && t.Sizes[k] != first.Sizes[k])
                    throw new ArgumentException($"Cat: Sizes of tensors must match except in dimension {d}. Expected size {first.Sizes[k]} but got size {t.Sizes[k]} for tensor number {i} in the list.");
            total += t.Sizes[d];
        }
        var shape = (int[])first.Sizes.Clone();
        shape[d] = total;
        var result = Empty(shape);
        int at = 0;
        foreach (var t in tensors)
        {
            StridedLoop.Copy(t, result.Detach().Narrow(d, at, t.Sizes[d]));
            at += t.Sizes[d];
        }
        var sizes = tensors.Select(t => t.Sizes[d]).ToArray();
        return Autograd.Record(result, tensors.ToArray(), g =>
        {
            var parts = new Tensor?[sizes.Length];
            int o = 0;
            for (int i = 0; i < sizes.Length; i++) { parts[i] = g.Narrow(d, o, sizes[i]).Contiguous(); o += sizes[i]; }
            return parts;
        });
    }

    /// <summary>Stacks equal-shaped tensors along a new dimension (<c>torch.stack</c>).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack: expects a non-empty TensorList");
        for (int i = 1; i < tensors.Count; i++)
            if (!ShapeUtil.SameShape(tensors[i].Sizes, tensors[0].Sizes))
                throw new ArgumentException($"Stack: stack expects each tensor to be equal size, but got {ShapeUtil.Format(tensors[0].Sizes)} at entry 0 and {ShapeUtil.Format(tensors[i].Sizes)} at entry {i}");
        int d = ShapeUtil.WrapDim(dim, tensors[0].Dim + 1, "Stack");
        return Cat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along dim; the last may be smaller (<c>torch.split</c>).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = ShapeUtil.WrapDim(dim, Dim, "Split");
        if (splitSize <= 0 && !(splitSize == 0 && Sizes[d] == 0))
            throw new ArgumentException($"Split: split_size can only be 0 if dimension size is 0, but got {splitSize} for dimension of size {Sizes[d]}");
        if (Sizes[d] == 0) return [this];
        var sections = new List<int>();
        for (int at = 0; at < Sizes[d]; at += splitSize) sections.Add(Math.Min(splitSize, Sizes[d] - at));
        return Split(sections.ToArray(), d);
    }

    /// <summary>Splits into pieces with the given sizes along dim (<c>torch.split</c> with a list).</summary>
    public Tensor[] Split(int[] sections, int dim = 0)
    {
        int d = ShapeUtil.WrapDim(dim, Dim, "Split");
        if (sections.Any(s => s < 0) || sections.Sum() != Sizes[d])
            throw new ArgumentException($"Split: split_with_sizes expects split_sizes to sum exactly to {Sizes[d]} (input tensor's size at dimension {d}), but got split_sizes=[{string.Join(", ", sections)}]");
        var parts = new Tensor[sections.Length];
        int at = 0;
        for (int i = 0; i < sections.Length; i++) { parts[i] = Narrow(d, at, sections[i]); at += sections[i]; }
        return parts;
    }

    /// <summary>Splits into <paramref name="chunks"/> pieces of size ceil(n / chunks) (<c>torch.chunk</c>).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"Chunk: chunk expects `chunks` to be greater than 0, got: {chunks}");
        int d = ShapeUtil.WrapDim(dim, Dim, "Chunk");
        int size = (Sizes[d] + chunks - 1) / chunks;
        return Split(Math.Max(size, Sizes[d] == 0 ? 0 : 1), d);
    }
}
