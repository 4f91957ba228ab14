namespace ConvKit.Data;

/// <summary>
/// Iterates a dataset in batches (<c>torch.utils.data.DataLoader</c>): each enumeration is one epoch, in
/// order or, with <c>shuffle</c>, in a new permutation drawn from the generator, so a loader built with
/// <c>new Generator(seed)</c> replays the same sequence of epochs. Batches are merged by a collate
/// function and prepared on a background thread up to <see cref="Prefetch"/> batches ahead.
/// </summary>
/// <remarks>
/// Thread safety: while an epoch runs, the dataset's indexer and the collate function are called on the
/// loader's worker thread (one thread per running epoch, reading the samples of each batch in order), not
/// on the consumer's thread. A dataset that the consumer also uses during the epoch must allow concurrent
/// reads; <see cref="TensorDataset"/> does, though random transforms then draw from its generator in an
/// order that depends on timing. Run one epoch of a loader at a time, from one consumer thread. Every batch
/// is freshly allocated, so the consumer may keep it. At most <see cref="Prefetch"/> finished batches wait,
/// plus one being assembled. Breaking out of a <c>foreach</c> (or disposing the enumerator) cancels the
/// worker and waits for it to finish the batch it is assembling; an exception in the worker is rethrown by
/// the <c>MoveNext</c> that would have returned the failed batch. With <c>prefetch: 0</c> nothing runs in the background.
/// </remarks>
public class DataLoader<TSample, TBatch> : IEnumerable<TBatch>
{
    private readonly Func<int[], TBatch> _assemble;

    /// <param name="dataset">The samples.</param>
    /// <param name="collate">Merges the samples of one batch (<c>collate_fn</c>); see <see cref="Collate"/>.</param>
    /// <param name="batchSize">Samples per batch (<c>batch_size</c>, default 1).</param>
    /// <param name="shuffle">Draw a new order every epoch (<c>shuffle</c>).</param>
    /// <param name="generator">The generator shuffling draws from; <see cref="ConvKit.Generator.Default"/> when null.</param>
    /// <param name="dropLast">Drop the last batch when it is smaller than <paramref name="batchSize"/> (<c>drop_last</c>).</param>
    /// <param name="prefetch">Batches prepared ahead on the worker thread (default 2); 0 loads synchronously on the consumer's thread.</param>
    public DataLoader(IDataset<TSample> dataset, Func<IReadOnlyList<TSample>, TBatch> collate, int batchSize = 1,
        bool shuffle = false, Generator? generator = null, bool dropLast = false, int prefetch = 2)
        : this(dataset, batchSize, shuffle, generator, dropLast, prefetch, Collating(dataset, collate))
    {
    }

    private protected DataLoader(IDataset<TSample> dataset, int batchSize, bool shuffle, Generator? generator,
        bool dropLast, int prefetch, Func<int[], TBatch> assemble)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(prefetch);
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Generator = generator;
        DropLast = dropLast;
        Prefetch = prefetch;
        _assemble = assemble;
    }

    /// <summary>The samples the loader batches.</summary>
    public IDataset<TSample> Dataset { get; }

    /// <summary>Samples per batch, B (<c>batch_size</c>).</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch draws a new order (<c>shuffle</c>).</summary>
    public bool Shuffle { get; }

    /// <summary>The generator shuffling draws from; null means <see cref="ConvKit.Generator.Default"/>.</summary>
    public Generator? Generator { get; }

    /// <summary>Whether a smaller last batch is dropped (<c>drop_last</c>).</summary>
    public bool DropLast { get; }

    /// <summary>Finished batches the worker may hold ahead of the consumer; 0 loads on the consumer's thread.</summary>
    public int Prefetch { get; }

    /// <summary>Batches per epoch (<c>len(loader)</c>).</summary>
    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Starts an epoch: draws its order now and, with <see cref="Prefetch"/> &gt; 0, starts the worker.</summary>
    public IEnumerator<TBatch> GetEnumerator()
    {
        var batches = EpochBatches();
        return Prefetch == 0 ? Synchronous(batches) : new PrefetchEnumerator<TBatch>(batches, _assemble, Prefetch);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The indices of each batch of one epoch.</summary>
    private int[][] EpochBatches()
    {
        int n = Dataset.Count;
        var order = Shuffle ? (Generator ?? Generator.Default).Permutation(n) : Enumerable.Range(0, n).ToArray();
        var batches = new int[Count][];
        for (int b = 0; b < batches.Length; b++)
            batches[b] = order.AsSpan(b * BatchSize, Math.Min(BatchSize, n - b * BatchSize)).ToArray();
        return batches;
    }

    private IEnumerator<TBatch> Synchronous(int[][] batches)
    {
        foreach (var indices in batches) yield return _assemble(indices);
    }

    private protected static Func<int[], TBatch> Collating(IDataset<TSample> dataset, Func<IReadOnlyList<TSample>, TBatch> collate)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        return indices =>
        {
            var samples = new TSample[indices.Length];
            for (int i = 0; i < samples.Length; i++) samples[i] = dataset[indices[i]];
            return collate(samples);
        };
    }
}

/// <summary>
/// The image-classification loader: (image [C, H, W], label) samples in, <see cref="Batch"/>es of images
/// [B, C, H, W] and labels [B] out. For a <see cref="TensorDataset"/> without transform the batch is copied
/// straight from the dataset's storage into one buffer; otherwise each (transformed) sample is copied into
/// it (<see cref="Collate.ImageLabel"/>). See <see cref="DataLoader{TSample, TBatch}"/> for the parameters
/// and the thread-safety contract.
/// </summary>
public sealed class DataLoader : DataLoader<(Tensor Image, long Label), Batch>
{
    public DataLoader(IDataset<(Tensor Image, long Label)> dataset, int batchSize = 1, bool shuffle = false,
        Generator? generator = null, bool dropLast = false, int prefetch = 2)
        : base(dataset, batchSize, shuffle, generator, dropLast, prefetch,
            dataset is TensorDataset { Transform: null } plain ? plain.Gather : Collating(dataset, Collate.ImageLabel))
    {
    }
}
