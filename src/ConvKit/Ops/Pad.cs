namespace ConvKit;

/// <summary>Padding modes of <see cref="F.Pad"/> and of the module-level <c>paddingMode</c>.</summary>
public enum PadMode { Constant, Reflect, Replicate, Circular }

public static partial class F
{
    /// <summary>
    /// Pads the last dimensions, as <c>torch.nn.functional.pad</c>. <paramref name="pad"/> lists
    /// (left, right) for the last dim, then (top, bottom) for the one before, and so on. Constant mode pads
    /// any number of dims and crops with negative values; reflect, replicate and circular pad the last one
    /// or two dims of [C, W]/[N, C, W] or [C, H, W]/[N, C, H, W] input.
    /// </summary>
    public static Tensor Pad(Tensor input, int[] pad, PadMode mode = PadMode.Constant, float value = 0f)
    {
        const string op = "pad";
        if (pad.Length % 2 != 0) throw new ArgumentException($"{op}: Padding length must be divisible by 2, got [{string.Join(", ", pad)}]");
        int nd = pad.Length / 2;
        if (nd > input.Dim) throw new ArgumentException($"{op}: Padding length should be less than or equal to two times the input dimension but got padding length {pad.Length} and input of dimension {input.Dim}");
        if (mode != PadMode.Constant)
        {
            if (value != 0f) throw new ArgumentException($"{op}: Padding mode \"{mode.ToString().ToLowerInvariant()}\" doesn't take in value argument");
            // Circular pads batched input only; reflect and replicate also take unbatched input.
            bool rankOk = nd is 1 or 2 && (input.Dim == nd + 2 || (input.Dim == nd + 1 && mode != PadMode.Circular));
            if (!rankOk)
                throw new ArgumentException($"{op}: {mode.ToString().ToLowerInvariant()} padding of {nd} dims expects a {nd + 1}D or {nd + 2}D input, got input of size {ShapeUtil.Format(input.Sizes)}");
        }
        var lo = new int[input.Dim];
        var hi = new int[input.Dim];
        for (int i = 0; i < nd; i++)
        {
            int d = input.Dim - 1 - i;
            lo[d] = pad[2 * i];
            hi[d] = pad[2 * i + 1];
            int size = input.Sizes[d];
            if (mode == PadMode.Reflect && (lo[d] >= size || hi[d] >= size))
                throw new ArgumentException($"{op}: Padding size should be less than the corresponding input dimension, but got: padding ({lo[d]}, {hi[d]}) at dimension {d} of input {ShapeUtil.Format(input.Sizes)}");
            if (mode == PadMode.Circular && (lo[d] > size || hi[d] > size))
                throw new ArgumentException($"{op}: Padding value causes wrapping around more than once: padding ({lo[d]}, {hi[d]}) at dimension {d} of input {ShapeUtil.Format(input.Sizes)}");
            if (mode == PadMode.Constant && (size + lo[d] < 0 || size + Math.Min(lo[d], 0) + hi[d] < 0))
                throw new ArgumentException($"{op}: negative padding ({lo[d]}, {hi[d]}) crops more than the {size} elements of dimension {d} of input {ShapeUtil.Format(input.Sizes)}");
            if (mode == PadMode.Replicate && size == 0 && lo[d] + hi[d] > 0)
                throw new ArgumentException($"{op}: cannot replicate-pad an empty dimension {d} of input {ShapeUtil.Format(input.Sizes)}");
        }
        var outShape = input.Sizes.Select((s, d) => s + lo[d] + hi[d]).ToArray();
        if (outShape.Any(s => s < 0))
            throw new ArgumentException($"{op}: The input size {ShapeUtil.Format(input.Sizes)}, plus negative padding [{string.Join(", ", pad)}] resulted in a negative output size, which is invalid.");
        // Every output element reads one input element (or the constant): a per-dim source map, then a gather.
        var maps = new int[input.Dim][];
        for (int d = 0; d < input.Dim; d++)
        {
            int size = input.Sizes[d];
            maps[d] = new int[outShape[d]];
            for (int o = 0; o < outShape[d]; o++)
            {
                int i = o - lo[d];
                maps[d][o] = mode switch
                {
                    _ when i >= 0 && i < size => i,
                    PadMode.Constant => -1,
                    PadMode.Reflect => i < 0 ? -i : 2 * (size - 1) - i,
                    PadMode.Replicate => Math.Clamp(i, 0, size - 1),
                    _ => ((i % size) + size) % size,
                };
            }
        }
        var x = input.Contiguous();
        var src = x.Span.ToArray();
        var y = Tensor.Full(outShape, value);
        var sources = Gather(maps, input.Sizes, outShape);
        var dst = y.Span;
        for (int o = 0; o < sources.Length; o++) if (sources[o] >= 0) dst[o] = src[sources[o]];
        return Autograd.Record(y, input, g =>
        {
            var dx = Tensor.Zeros(input.Sizes);
            var gs = g.Contiguous().Span;
            var ds = dx.Span;
            for (int o = 0; o < sources.Length; o++) if (sources[o] >= 0) ds[sources[o]] += gs[o];
            return dx;
        });
    }

    /// <summary>PyTorch's module-level padding_mode names ("zeros", "reflect", "replicate", "circular").</summary>
    public static PadMode ParsePadMode(string paddingMode) => paddingMode switch
    {
        "zeros" or "constant" => PadMode.Constant,
        "reflect" => PadMode.Reflect,
        "replicate" => PadMode.Replicate,
        "circular" => PadMode.Circular,
        _ => throw new ArgumentException($"padding_mode must be one of 'zeros', 'reflect', 'replicate' or 'circular', but got padding_mode='{paddingMode}'"),
    };

    /// <summary>Flat source index of every output element (−1 for constant fill) from per-dim maps.</summary>
    private static int[] Gather(int[][] maps, int[] inShape, int[] outShape)
    {
        int n = ShapeUtil.Numel(outShape);
        var result = new int[n];
        var inStrides = ShapeUtil.ContiguousStrides(inShape);
        var idx = new int[outShape.Length];
        for (int o = 0; o < n; o++)
        {
            int src = 0;
            for (int d = 0; d < idx.Length; d++)
            {
                int s = maps[d][idx[d]];
                if (s < 0) { src = -1; break; }
                src += s * inStrides[d];
            }
            result[o] = src;
            for (int d = idx.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        return result;
    }
}
