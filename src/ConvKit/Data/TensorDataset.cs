namespace ConvKit.Data;

/// <summary>
/// Images [N, C, H, W] with class labels [N] as a dataset of (image [C, H, W], label) samples: PyTorch's
/// <c>TensorDataset(images, labels)</c> with torchvision's per-sample <c>transform</c> hook.
/// </summary>
/// <remarks>
/// Without a transform a sample's image is a view of <see cref="Images"/> (no copy), as
/// <c>images[i]</c> in PyTorch. A transform receives that view and <see cref="Generator"/>, and must
/// return a new tensor rather than write into the view. Random transforms draw from
/// <see cref="Generator"/> in the order samples are read, so they are reproducible for a seed as long
/// as one thread reads the dataset in a fixed order (as <see cref="DataLoader"/>'s single worker does).
/// </remarks>
public sealed class TensorDataset : Dataset<(Tensor Image, long Label)>
{
    /// <param name="images">[N, C, H, W] float images (copied only if not contiguous; never part of an autograd graph).</param>
    /// <param name="labels">[N] int64 class labels.</param>
    /// <param name="transform">Applied to each image [C, H, W] when a sample is read; null for none.</param>
    /// <param name="generator">The generator handed to <paramref name="transform"/>; by default a new one seeded from <see cref="Generator.Default"/>.</param>
    public TensorDataset(Tensor images, LongTensor labels, Func<Tensor, Generator, Tensor>? transform = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Dim != 4)
            throw new ArgumentException($"TensorDataset: expected images of shape [N, C, H, W], got {ShapeUtil.Format(images.Shape)}", nameof(images));
        if (labels.Dim != 1 || labels.Numel != images.Size(0))
            throw new ArgumentException(
                $"TensorDataset: expected labels of shape [{images.Size(0)}] to match images {ShapeUtil.Format(images.Shape)}, got {ShapeUtil.Format(labels.Shape)}", nameof(labels));
        Images = images.Detach().Contiguous();
        Labels = labels;
        Transform = transform;
        Generator = generator ?? new Generator(((ulong)Generator.Default.NextUInt32() << 32) | Generator.Default.NextUInt32());
    }

    /// <summary>All images, [N, C, H, W], contiguous.</summary>
    public Tensor Images { get; }

    /// <summary>All labels, [N].</summary>
    public LongTensor Labels { get; }

    /// <summary>The per-sample transform, or null.</summary>
    public Func<Tensor, Generator, Tensor>? Transform { get; }

    /// <summary>The generator the transform draws from.</summary>
    public Generator Generator { get; }

    /// <summary>Number of samples, N.</summary>
    public override int Count => Images.Size(0);

    /// <summary>The shape of one untransformed image, [C, H, W].</summary>
    public IReadOnlyList<int> ImageShape => Images.Shape.Skip(1).ToArray();

    protected override (Tensor Image, long Label) GetItem(int index)
    {
        var image = Images.Select(0, index);
        return (Transform is null ? image : Transform(image, Generator), Labels.Span[index]);
    }

    /// <summary>The same images and labels with another transform (and generator).</summary>
    public TensorDataset WithTransform(Func<Tensor, Generator, Tensor>? transform, Generator? generator = null) =>
        new(Images, Labels, transform, generator);

    /// <summary>
    /// A dataset whose images are (x - mean[c]) / std[c] per channel, computed once for all images, as
    /// <c>(images - mean) / std</c> in PyTorch; <paramref name="mean"/> and <paramref name="std"/> hold one
    /// value per channel or one value for all. Keeps the transform and generator.
    /// </summary>
    public TensorDataset Normalize(float[] mean, float[] std)
    {
        var normalized = Images.Clone();
        Transforms.NormalizeInPlace(normalized.Span, Images.Size(1), Images.Size(2) * Images.Size(3), mean, std);
        return new TensorDataset(normalized, Labels, Transform, Generator);
    }

    /// <inheritdoc cref="Normalize(float[], float[])"/>
    public TensorDataset Normalize(float mean, float std) => Normalize([mean], [std]);

    /// <summary>
    /// The batch of the given samples, copied straight from <see cref="Images"/> into one buffer (the
    /// loader's fast path, valid only without a transform).
    /// </summary>
    internal Batch Gather(int[] indices)
    {
        if (Transform is not null) throw new InvalidOperationException("internal: Gather on a dataset with a transform");
        int sample = Images.Numel / Math.Max(Count, 1);
        var images = GC.AllocateUninitializedArray<float>(indices.Length * sample);
        var labels = new long[indices.Length];
        var src = Images.Span;
        var all = Labels.Span;
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"TensorDataset: index {i} is out of range for a dataset of {Count} samples");
            src.Slice(i * sample, sample).CopyTo(images.AsSpan(b * sample, sample));
            labels[b] = all[i];
        }
        var shape = Images.Shape.ToArray();
        shape[0] = indices.Length;
        return new Batch(new Tensor(images, shape), new LongTensor(labels, [indices.Length]));
    }
}
