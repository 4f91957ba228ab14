namespace ConvKit;

/// <summary>
/// An explicit lifetime for tensor memory, as TorchSharp's dispose scope: the storage of every tensor created on
/// this thread while the scope is the innermost one goes back to <see cref="TensorPool"/> when the scope is
/// disposed, and later tensors of the same size reuse it. Wrap one training or inference step in a scope and the
/// steady state allocates nothing proportional to tensor sizes:
/// <code>
/// using (TensorScope.Begin())
/// {
///     var loss = F.CrossEntropy(model.Forward(x), y);
///     loss.Backward();
///     optimizer.Step();
///     total += loss.Item();
/// }
/// </code>
/// A tensor created in the scope must not be used after it ends, unless <see cref="Keep(Tensor)"/> moved it out. Storage
/// that long-lived objects take over leaves the scope by itself: parameters, module buffers, gradients
/// (<see cref="Tensor.Grad"/>) and optimizer state. Views share their base's storage and so its lifetime.
/// Scopes nest, belong to the thread that began them, and must be disposed innermost first.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _parent;
    private readonly HashSet<Array>? _owned;
    private readonly bool _recyclesActivations;
    private bool _disposed;

    private TensorScope(bool tracking, bool recycleActivations = false)
    {
        _recyclesActivations = recycleActivations;
        _parent = _current;
        _owned = tracking ? new HashSet<Array>(ReferenceEqualityComparer.Instance) : null;
        _current = this;
    }

    /// <summary>Starts a scope on this thread; dispose it to recycle what was allocated inside.</summary>
    public static TensorScope Begin() => new(tracking: true);

    /// <summary>
    /// Starts a scope in which <see cref="Tensor.Backward"/> also recycles the activations it has passed, as
    /// PyTorch frees a graph's saved tensors during backward: each tensor computed in this scope on the way to the
    /// loss goes back to the pool as soon as backward no longer needs it, so the step's peak memory falls during
    /// backward instead of staying at the forward's. After backward those tensors must not be read, except the
    /// tensor backward started from and what <see cref="Keep(Tensor)"/> moved out before; read metrics from the
    /// logits before calling backward, or keep them. With <c>retainGraph</c> nothing is recycled early.
    /// </summary>
    public static TensorScope BeginTraining() => new(tracking: true, recycleActivations: true);

    /// <summary>A region whose allocations belong to no scope (state that outlives the step, such as an optimizer's).</summary>
    internal static TensorScope Suspend() => new(tracking: false);

    /// <summary>
    /// Moves <paramref name="tensor"/>'s storage (shared with all its views) to the enclosing scope, or out of
    /// scopes altogether when this is the outermost, so it stays valid after this scope ends.
    /// </summary>
    public Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Move(tensor.Storage);
        return tensor;
    }

    /// <inheritdoc cref="Keep(Tensor)"/>
    public LongTensor Keep(LongTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Move(tensor.Data);
        return tensor;
    }

    private void Move(Array storage)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(TensorScope), "Keep: the scope has already ended and its tensors are recycled");
        if (_owned is not null && _owned.Remove(storage)) NearestTracking(_parent)?._owned!.Add(storage);
    }

    /// <summary>Fresh storage for a tensor, owned by the innermost tracking scope when there is one.</summary>
    internal static T[] Allocate<T>(int length, bool zero) where T : unmanaged
    {
        var array = TensorPool.Rent<T>(length, zero);
        if (length >= TensorPool.MinLength && _current is { _owned: { } owned }) owned.Add(array);
        return array;
    }

    /// <summary>Takes <paramref name="storage"/> out of whichever scope on this thread owns it: a long-lived object now holds it.</summary>
    internal static void Escape(Array storage)
    {
        for (var s = _current; s is not null; s = s._parent)
            if (s._owned is not null && s._owned.Remove(storage)) return;
    }

    /// <summary>The scope owning <paramref name="storage"/> when that scope lets backward recycle activations, else null.</summary>
    internal static TensorScope? ActivationOwner(Array storage)
    {
        for (var s = _current; s is not null; s = s._parent)
            if (s._owned is not null && s._owned.Contains(storage)) return s._recyclesActivations ? s : null;
        return null;
    }

    internal bool Owns(Array storage) => _owned is not null && _owned.Contains(storage);

    /// <summary>Recycles one array this scope owns before the scope ends (the caller knows nothing references it).</summary>
    internal void Release(Array storage)
    {
        if (_owned is not null && _owned.Remove(storage)) TensorPool.Return(storage);
    }

    private static TensorScope? NearestTracking(TensorScope? s)
    {
        while (s is not null && s._owned is null) s = s._parent;
        return s;
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException(_current is null || !IsAncestorOf(_current)
                ? "TensorScope.Dispose: the scope belongs to another thread or has ended; dispose a scope on the thread that began it"
                : "TensorScope.Dispose: an inner scope is still open; dispose scopes innermost first");
        _disposed = true;
        _current = _parent;
        if (_owned is null) return;
        foreach (var array in _owned) TensorPool.Return(array);
        _owned.Clear();
    }

    private bool IsAncestorOf(TensorScope s)
    {
        for (var p = s._parent; p is not null; p = p._parent)
            if (ReferenceEquals(p, this)) return true;
        return false;
    }
}
