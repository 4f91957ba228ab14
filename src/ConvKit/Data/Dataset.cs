using System.Collections;

namespace ConvKit.Data;

/// <summary>
/// A map-style dataset (<c>torch.utils.data.Dataset</c>): <see cref="Count"/> samples reachable by index
/// 0..Count-1 (<c>__len__</c> and <c>__getitem__</c>).
/// </summary>
public interface IDataset<out TSample>
{
    /// <summary>Number of samples (<c>len(dataset)</c>).</summary>
    int Count { get; }

    /// <summary>The sample at <paramref name="index"/> in [0, Count).</summary>
    TSample this[int index] { get; }
}

/// <summary>
/// Base class for datasets: checks the index once, here, and leaves <see cref="GetItem"/> to the
/// subclass. Also enumerable, so LINQ works over the samples.
/// </summary>
public abstract class Dataset<TSample> : IDataset<TSample>, IReadOnlyList<TSample>
{
    /// <inheritdoc/>
    public abstract int Count { get; }

    /// <summary>The sample at <paramref name="index"/>; throws <see cref="ArgumentOutOfRangeException"/> outside [0, Count).</summary>
    public TSample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index,
                    $"{GetType().Name}: index {index} is out of range for a dataset of {Count} samples (expected 0 <= index < {Count})");
            return GetItem(index);
        }
    }

    /// <summary>Returns the sample at an index already checked to lie in [0, Count).</summary>
    protected abstract TSample GetItem(int index);

    public IEnumerator<TSample> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return GetItem(i);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
