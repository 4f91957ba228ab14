namespace ConvKit.Data;

/// <summary>
/// Collate functions (<c>default_collate</c> of <c>torch.utils.data</c>): they merge a list of samples into
/// one batch, copying each sample once into a single preallocated buffer.
/// </summary>
public static class Collate
{
    /// <summary>Stacks equal-shaped samples [*S] into one tensor [B, *S] (as <c>torch.stack</c>, without autograd).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> samples) => Stack(samples, t => t);

    /// <summary>Stacks (image [C, H, W], label) samples into images [B, C, H, W] and labels [B].</summary>
    public static Batch ImageLabel(IReadOnlyList<(Tensor Image, long Label)> samples)
    {
        var labels = new long[samples.Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = samples[i].Label;
        return new Batch(Stack(samples, s => s.Image), new LongTensor(labels, [labels.Length]));
    }

    private static Tensor Stack<T>(IReadOnlyList<T> samples, Func<T, Tensor> tensorOf)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("Collate: expected at least one sample, got an empty batch", nameof(samples));
        var first = tensorOf(samples[0]);
        int numel = first.Numel;
        var shape = new int[first.Dim + 1];
        shape[0] = samples.Count;
        first.Sizes.CopyTo(shape, 1);
        var buffer = GC.AllocateUninitializedArray<float>(ShapeUtil.Numel(shape));
        for (int i = 0; i < samples.Count; i++)
        {
            var t = i == 0 ? first : tensorOf(samples[i]);
            if (!ShapeUtil.SameShape(t.Sizes, first.Sizes))
                throw new ArgumentException(
                    $"Collate: stack expects each tensor to be equal size, but got {ShapeUtil.Format(first.Sizes)} at entry 0 and {ShapeUtil.Format(t.Sizes)} at entry {i}");
            StridedLoop.Copy(t, buffer, i * numel);
        }
        return new Tensor(buffer, shape);
    }
}
