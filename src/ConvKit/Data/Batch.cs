namespace ConvKit.Data;

/// <summary>
/// One batch of an image-classification loader: images [B, C, H, W] and labels [B]. Deconstructs, so
/// <c>foreach (var (x, y) in loader)</c> works as <c>for x, y in loader</c>.
/// </summary>
public readonly record struct Batch(Tensor Images, LongTensor Labels)
{
    /// <summary>Number of samples, B.</summary>
    public int Size => Labels.Numel;
}
