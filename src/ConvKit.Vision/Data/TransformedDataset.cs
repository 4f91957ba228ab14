using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// A dataset whose samples pass through a random transform drawing from one generator (torchvision's
/// <c>transforms=</c> argument). The generator is shared by all reads, so the draws follow the order samples are read.
/// </summary>
public sealed class TransformedDataset<T>(IDataset<T> inner, Func<T, Generator, T> transform, Generator generator) : Dataset<T>
{
    public override int Count => inner.Count;

    protected override T GetItem(int index) => transform(inner[index], generator);
}
