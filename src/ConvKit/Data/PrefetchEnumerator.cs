using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace ConvKit.Data;

/// <summary>
/// Runs batch assembly on one dedicated background thread, at most <c>prefetch</c> finished batches
/// ahead of the consumer (a bounded channel), so loading overlaps the consumer's compute.
/// </summary>
/// <remarks>
/// Batches arrive in order. An exception thrown while assembling a batch is rethrown, with its original
/// stack trace, by the <see cref="MoveNext"/> that would have returned that batch; batches the consumer
/// never asks for (it stopped early) are discarded with any error they raised. <see cref="Dispose"/>
/// cancels the worker and joins its thread, so no thread outlives the enumeration; an enumerator
/// abandoned without Dispose cancels its worker when finalized.
/// </remarks>
internal sealed class PrefetchEnumerator<TBatch> : IEnumerator<TBatch>
{
    private readonly Worker _worker;
    private TBatch _current = default!;

    public PrefetchEnumerator(IReadOnlyList<int[]> batches, Func<int[], TBatch> assemble, int prefetch) =>
        _worker = new Worker(batches, assemble, prefetch);

    public TBatch Current => _current;
    object? System.Collections.IEnumerator.Current => _current;

    /// <summary>The worker thread (for tests: it must be gone after Dispose).</summary>
    internal Thread WorkerThread => _worker.Thread;

    public bool MoveNext() => _worker.TryTake(out _current);

    public void Reset() => throw new NotSupportedException("DataLoader: an epoch cannot be reset; enumerate the loader again for a new epoch");

    public void Dispose()
    {
        _worker.Stop();
        GC.SuppressFinalize(this);
    }

    ~PrefetchEnumerator() => _worker.Cancel();

    // The thread references only the worker, never the enumerator, so an abandoned enumerator can be finalized.
    private sealed class Worker
    {
        private readonly IReadOnlyList<int[]> _batches;
        private readonly Func<int[], TBatch> _assemble;
        private readonly Channel<TBatch> _channel;
        private readonly CancellationTokenSource _cts = new();
        private ExceptionDispatchInfo? _error;
        private int _stopped;

        public Worker(IReadOnlyList<int[]> batches, Func<int[], TBatch> assemble, int prefetch)
        {
            _batches = batches;
            _assemble = assemble;
            _channel = Channel.CreateBounded<TBatch>(new BoundedChannelOptions(prefetch)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            Thread = new Thread(Run) { IsBackground = true, Name = "ConvKit.DataLoader worker" };
            Thread.Start();
        }

        public Thread Thread { get; }

        private void Run()
        {
            var token = _cts.Token;
            var writer = _channel.Writer;
            try
            {
                foreach (var indices in _batches)
                {
                    token.ThrowIfCancellationRequested();
                    var batch = _assemble(indices);
                    if (!writer.TryWrite(batch)) writer.WriteAsync(batch, token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested) { }
            catch (Exception e) { _error = ExceptionDispatchInfo.Capture(e); }
            finally { writer.TryComplete(); }
        }

        public bool TryTake(out TBatch batch)
        {
            var reader = _channel.Reader;
            while (!reader.TryRead(out batch!))
            {
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    _error?.Throw();
                    return false;
                }
            }
            return true;
        }

        public void Cancel()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            _cts.Cancel();
            if (Thread.CurrentThread != Thread) Thread.Join();
            _cts.Dispose();
        }
    }
}
