using System.Runtime.CompilerServices;
using ConvKit.Data;
using Xunit;

namespace ConvKit.Tests.Data;

/// <summary>Batching, seeded shuffling, the fast and generic collate paths, prefetch, errors and shutdown.</summary>
public class DataLoaderTests
{
    /// <summary>n images [1, 2, 3] whose pixels are 100 i + k, labelled i.</summary>
    internal static TensorDataset Numbered(int n, Func<Tensor, Generator, Tensor>? transform = null) =>
        new(Tensor.FromArray(Enumerable.Range(0, n * 6).Select(v => (float)(v / 6 * 100 + v % 6)).ToArray(), n, 1, 2, 3),
            LongTensor.FromArray(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), n), transform, new Generator(3));

    private static long[] Labels(IEnumerable<Batch> epoch) => epoch.SelectMany(b => b.Labels.ToArray()).ToArray();

    [Theory]
    [InlineData(false, new[] { 4, 4, 2 })]
    [InlineData(true, new[] { 4, 4 })]
    public void BatchesHaveTheRightShapesAndContents(bool dropLast, int[] sizes)
    {
        var data = Numbered(10);
        var loader = new DataLoader(data, batchSize: 4, dropLast: dropLast);
        var batches = loader.ToList();
        Assert.Equal(sizes.Length, loader.Count);
        Assert.Equal(sizes, batches.Select(b => b.Size));
        int at = 0;
        foreach (var (images, labels) in batches)
        {
            Assert.Equal([labels.Numel, 1, 2, 3], images.Shape);
            Assert.Equal(data.Images.Narrow(0, at, labels.Numel).ToArray(), images.ToArray());
            Assert.Equal(Enumerable.Range(at, labels.Numel).Select(i => (long)i), labels.ToArray());
            at += labels.Numel;
        }
    }

    [Fact]
    public void ShuffleIsReproducibleForASeedAndNewEveryEpoch()
    {
        var data = Numbered(50);
        var a = new DataLoader(data, batchSize: 8, shuffle: true, generator: new Generator(7));
        var b = new DataLoader(data, batchSize: 8, shuffle: true, generator: new Generator(7), prefetch: 0);
        var a1 = Labels(a);
        var a2 = Labels(a);
        Assert.Equal(a1, Labels(b));
        Assert.Equal(a2, Labels(b));
        Assert.NotEqual(a1, a2);
        Assert.Equal(new Generator(7).Permutation(50).Select(i => (long)i), a1);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), a1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EverySampleComesOncePerEpoch(bool dropLast)
    {
        var loader = new DataLoader(Numbered(23), batchSize: 5, shuffle: true, generator: new Generator(1), dropLast: dropLast);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = Labels(loader);
            Assert.Equal(dropLast ? 20 : 23, seen.Length);
            Assert.Equal(seen.Length, seen.Distinct().Count());
        }
    }

    [Fact]
    public void ImagesTravelWithTheirLabels()
    {
        var data = Numbered(17);
        foreach (var (images, labels) in new DataLoader(data, batchSize: 6, shuffle: true, generator: new Generator(5)))
            for (int b = 0; b < labels.Numel; b++)
                Assert.Equal(data[(int)labels[b]].Image.ToArray(), images.Select(0, b).ToArray());
    }

    [Fact]
    public void GenericSamplesAndTransformsTakeTheCollatePath()
    {
        var plain = Numbered(9);
        var wrapped = new ListDataset<(Tensor Image, long Label)>(plain.ToList());
        var fast = new DataLoader(plain, batchSize: 4).ToList();
        var generic = new DataLoader(wrapped, batchSize: 4).ToList();
        Assert.Equal(fast.Select(b => b.Images.ToArray()), generic.Select(b => b.Images.ToArray()));
        Assert.Equal(fast.Select(b => b.Labels.ToArray()), generic.Select(b => b.Labels.ToArray()));

        var flipped = new DataLoader(Numbered(9, Transforms.RandomHorizontalFlip(p: 1)), batchSize: 4).First();
        Assert.Equal([2f, 1, 0, 5, 4, 3], flipped.Images.Select(0, 0).ToArray());
        Assert.Equal([4, 1, 2, 3], flipped.Images.Shape);
    }

    [Fact]
    public void ACustomCollateMergesAnySampleType()
    {
        var loader = new DataLoader<int, int>(new ListDataset<int>(Enumerable.Range(1, 10).ToList()), batch => batch.Sum(), batchSize: 3);
        Assert.Equal([6, 15, 24, 10], loader.ToList());
    }

    [Fact]
    public void TheWorkerPreparesTheNextBatchesBeforeTheConsumerAsks()
    {
        const int batch = 3, prefetch = 2;
        var data = new ProbeDataset(30);
        var loader = new DataLoader(data, batchSize: batch, prefetch: prefetch);
        using var epoch = loader.GetEnumerator();
        Assert.True(epoch.MoveNext());
        // The consumer now "computes" and asks for nothing: the worker must fill the prefetch queue on its own.
        Assert.True(data.WaitUntilRead(batch * (1 + prefetch) - 1), "the worker did not assemble batches 1 and 2 while the consumer held batch 0");
        // Bounded: prefetch batches wait ready plus one being assembled, nothing beyond until the consumer takes one.
        Assert.True(data.Read <= batch * (2 + prefetch), $"the worker ran ahead to {data.Read} samples");
        Assert.True(epoch.MoveNext());
        Assert.Equal([3L, 4, 5], epoch.Current.Labels.ToArray());
        Assert.NotEqual(Environment.CurrentManagedThreadId, data.ReaderThread!.ManagedThreadId);
    }

    [Fact]
    public void AWorkerExceptionSurfacesInMoveNextAfterTheGoodBatches()
    {
        var loader = new DataLoader(new ProbeDataset(20, failAt: 5), batchSize: 2);
        using var epoch = loader.GetEnumerator();
        Assert.True(epoch.MoveNext());
        Assert.True(epoch.MoveNext());
        var e = Assert.Throws<ProbeException>(() => epoch.MoveNext());
        Assert.Contains("sample 5", e.Message);
        Assert.Contains(nameof(ProbeDataset), e.StackTrace);
    }

    [Fact]
    public void BreakingOutStopsAndJoinsTheWorker()
    {
        var data = new ProbeDataset(1000);
        foreach (var b in new DataLoader(data, batchSize: 2))
            if (b.Labels[0] == 4) break;
        Assert.False(data.ReaderThread!.IsAlive);
        Assert.True(data.Read < 1000);

        var epoch = (PrefetchEnumerator<Batch>)new DataLoader(data, batchSize: 2).GetEnumerator();
        epoch.Dispose();
        epoch.Dispose();
        Assert.False(epoch.WorkerThread.IsAlive);
    }

    [Fact]
    public void AnAbandonedEpochStopsItsWorkerWhenCollected()
    {
        var worker = StartAndAbandon(new DataLoader(new ProbeDataset(1000), batchSize: 2));
        for (int i = 0; i < 10 && worker.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            worker.Join(100);
        }
        Assert.False(worker.IsAlive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Thread StartAndAbandon(DataLoader loader)
    {
        var epoch = (PrefetchEnumerator<Batch>)loader.GetEnumerator();
        epoch.MoveNext();
        return epoch.WorkerThread;
    }

    [Fact]
    public void EdgeCasesAndBadArguments()
    {
        Assert.Empty(new DataLoader(Numbered(0), batchSize: 4));
        Assert.Equal(0, new DataLoader(Numbered(3), batchSize: 4, dropLast: true).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbered(3), batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbered(3), prefetch: -1));
        using var epoch = new DataLoader(Numbered(3)).GetEnumerator();
        Assert.Throws<NotSupportedException>(() => epoch.Reset());
    }

    private sealed class ListDataset<T>(IReadOnlyList<T> items) : Dataset<T>
    {
        public override int Count => items.Count;
        protected override T GetItem(int index) => items[index];
    }

    private sealed class ProbeException(string message) : Exception(message);

    /// <summary>Counts reads, remembers the reading thread and can fail at one index.</summary>
    private sealed class ProbeDataset(int count, int failAt = -1) : Dataset<(Tensor Image, long Label)>
    {
        private readonly object _gate = new();
        private int _read;

        public int Read { get { lock (_gate) return _read; } }
        public Thread? ReaderThread { get; private set; }
        public override int Count => count;

        protected override (Tensor Image, long Label) GetItem(int index)
        {
            ReaderThread = Thread.CurrentThread;
            if (index == failAt) throw new ProbeException($"sample {index} is broken");
            lock (_gate) { _read++; Monitor.PulseAll(_gate); }
            return (Tensor.Full([1, 2, 2], index), index);
        }

        /// <summary>Waits for the worker to have read <paramref name="samples"/> samples (a deadlock guard, not a timing assertion).</summary>
        public bool WaitUntilRead(int samples)
        {
            lock (_gate)
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (_read < samples)
                    if (!Monitor.Wait(_gate, deadline - DateTime.UtcNow > TimeSpan.Zero ? deadline - DateTime.UtcNow : TimeSpan.Zero)) return _read >= samples;
                return true;
            }
        }
    }
}
