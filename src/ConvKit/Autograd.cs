using System.Numerics.Tensors;

namespace ConvKit;

/// <summary>
/// Reverse-mode automatic differentiation, as <c>torch.autograd</c>. Each differentiable op records a
/// node holding its inputs and a closure that maps the output gradient to input gradients; the
/// closure is written next to the op's forward, in terms of other forward ops.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>True when ops record their backward (the default); false inside <see cref="NoGrad"/>.</summary>
    public static bool IsEnabled => _noGradDepth == 0;

    /// <summary>Turns recording off on this thread until disposed (<c>with torch.no_grad():</c>).</summary>
    public static IDisposable NoGrad() => new NoGradScope();

    private sealed class NoGradScope : IDisposable
    {
        private bool _disposed;
        public NoGradScope() => _noGradDepth++;
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _noGradDepth--;
        }
    }

    internal static Tensor Record(Tensor result, Tensor input, Func<Tensor, Tensor> backward)
    {
        if (!IsEnabled || !input.RequiresGrad) return result;
        result.GradFn = new Node([input], g => [backward(g)]);
        return result;
    }

    /// <summary>Records an op with several inputs; the closure returns one gradient per input (null where none).</summary>
    internal static Tensor Record(Tensor result, Tensor?[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!IsEnabled || !inputs.Any(t => t is { RequiresGrad: true })) return result;
        result.GradFn = new Node(inputs, backward);
        return result;
    }

    /// <summary>
    /// Runs the backward pass from <paramref name="root"/>, accumulating into the leaves' <see cref="Tensor.Grad"/>.
    /// The pass runs in its own <see cref="TensorScope"/>: no caller can hold the gradients flowing between nodes
    /// or a closure's temporaries, so each is recycled as soon as the last node that reads it has run, and the
    /// working set stays near the largest few gradients instead of all of them.
    /// </summary>
    internal static void Backward(Tensor root, Tensor gradient, bool retainGraph)
    {
        var order = TopologicalOrder(root);
        using var _ = NoGrad();
        bool outer = InBackward;
        InBackward = true;
        using var scope = TensorScope.Begin();
        try { new BackwardPass(scope).Run(order, root, gradient, retainGraph); }
        finally { InBackward = outer; }
    }

    /// <summary>True on this thread while a backward pass runs (kernels then keep their most exact algorithms).</summary>
    [ThreadStatic] internal static bool InBackward;

    /// <summary>dst += src for contiguous tensors of one shape, in parallel ranges (a gradient summed in place).</summary>
    internal static void AddInto(Tensor dst, Tensor src)
    {
        float[] d = dst.Storage, s = src.Storage;
        int dOff = dst.Offset, sOff = src.Offset;
        Parallelism.Ranges(dst.Numel, (start, n) => TensorPrimitives.Add(d.AsSpan(dOff + start, n), s.AsSpan(sOff + start, n), d.AsSpan(dOff + start, n)));
    }

    /// <summary>The gradients pending per tensor, and how many of them share each storage (a closure may pass its
    /// input gradient through, or hand one tensor to several inputs), so a storage is recycled only when no pending
    /// gradient reads it any more.</summary>
    private sealed class BackwardPass(TensorScope scope)
    {
        private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<float[], int> _readers = new(ReferenceEqualityComparer.Instance);
        private readonly List<Tensor> _spent = [];
        /// <summary>Per storage, the non-leaf tensors of the graph not yet passed that use it (activation recycling).</summary>
        private readonly Dictionary<float[], int> _ahead = new(ReferenceEqualityComparer.Instance);

        public void Run(List<Tensor> order, Tensor root, Tensor gradient, bool retainGraph)
        {
            Put(root, gradient);
            bool recycle = AnyRecyclingScope(order, retainGraph);
            if (recycle)
                foreach (var t in order)
                    if (t.GradFn is not null) _ahead[t.Storage] = _ahead.GetValueOrDefault(t.Storage) + 1;
            foreach (var t in order)
            {
                Step(t, retainGraph);
                if (recycle && t.GradFn is not null) Pass(t, root);
            }
        }

        private void Step(Tensor t, bool retainGraph)
        {
            if (!_grads.Remove(t, out var g)) return;
            Unread(g);
            if (t.GradFn is null)
            {
                if (t.RequiresGrad) t.AccumulateGrad(g, adopt: Exclusive(g));
                Recycle(g);
                return;
            }
            Tensor?[] inputGrads;
            using (var node = TensorScope.Begin())
            {
                inputGrads = t.GradFn.Run(g);
                foreach (var ig in inputGrads) if (ig is not null) node.Keep(ig);
            }
            if (!retainGraph) t.GradFn.Release();
            // Recycled only after every input is placed: one tensor may be the gradient of several inputs.
            _spent.Add(g);
            var inputs = t.GradFn.Inputs;
            for (int i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                var ig = inputGrads[i];
                if (ig is null) continue;
                _spent.Add(ig);
                if (input is null || !input.RequiresGrad) continue;
                if (!ShapeUtil.SameShape(ig.Sizes, input.Sizes))
                    throw new InvalidOperationException(
                        $"internal: gradient of shape {ShapeUtil.Format(ig.Sizes)} for input of shape {ShapeUtil.Format(input.Sizes)}");
                if (_grads.Remove(input, out var prev))
                {
                    Unread(prev);
                    if (CanAddInPlace(prev, g, inputGrads))
                    {
                        AddInto(prev, ig.Contiguous());
                        Put(input, prev);
                    }
                    else
                    {
                        Put(input, prev + ig);
                        _spent.Add(prev);
                    }
                }
                else Put(input, ig);
            }
            foreach (var spent in _spent) Recycle(spent);
            _spent.Clear();
        }

        private static bool AnyRecyclingScope(List<Tensor> order, bool retainGraph)
        {
            if (retainGraph) return false;
            foreach (var t in order)
                if (t.GradFn is not null && TensorScope.ActivationOwner(t.Storage) is not null) return true;
            return false;
        }

        /// <summary>
        /// Backward has run <paramref name="t"/>'s node, and the nodes that saved t (its consumers) all ran before it.
        /// Once the last graph tensor on its storage is passed and no pending gradient shares it, the storage goes
        /// back to the pool, unless it is the root's.
        /// </summary>
        private void Pass(Tensor t, Tensor root)
        {
            if (--_ahead[t.Storage] > 0) return;
            _ahead.Remove(t.Storage);
            if (ReferenceEquals(t.Storage, root.Storage) || _readers.ContainsKey(t.Storage)) return;
            TensorScope.ActivationOwner(t.Storage)?.Release(t.Storage);
        }

        private void Put(Tensor t, Tensor g)
        {
            _grads[t] = g;
            _readers[g.Storage] = _readers.GetValueOrDefault(g.Storage) + 1;
        }

        private void Unread(Tensor g)
        {
            if (--_readers[g.Storage] == 0) _readers.Remove(g.Storage);
        }

        /// <summary>
        /// A pending gradient may take the next contribution in place (as PyTorch's input buffer accumulates) when it
        /// is <see cref="Exclusive"/> and neither the node's incoming gradient nor one it just returned shares it.
        /// </summary>
        private bool CanAddInPlace(Tensor prev, Tensor g, Tensor?[] inputGrads)
        {
            if (!Exclusive(prev) || ReferenceEquals(prev.Storage, g.Storage)) return false;
            foreach (var other in inputGrads)
                if (other is not null && ReferenceEquals(prev.Storage, other.Storage)) return false;
            return true;
        }

        /// <summary>This pass made <paramref name="g"/>, it is exactly its storage, and no pending gradient reads that storage.</summary>
        private bool Exclusive(Tensor g) =>
            scope.Owns(g.Storage) && !_readers.ContainsKey(g.Storage) && g.IsContiguous && g.Offset == 0 && g.Storage.Length == g.Numel;

        private void Recycle(Tensor g)
        {
            if (!_readers.ContainsKey(g.Storage)) scope.Release(g.Storage);
        }
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded) { order.Add(t); continue; }
            if (!visited.Add(t)) continue;
            stack.Push((t, true));
            if (t.GradFn is null) continue;
            foreach (var input in t.GradFn.Inputs)
                if (input is { RequiresGrad: true } && !visited.Contains(input))
                    stack.Push((input, false));
        }
        order.Reverse();
        return order;
    }
}

internal sealed class Node(Tensor?[] inputs, Func<Tensor, Tensor?[]> backward)
{
    private Func<Tensor, Tensor?[]>? _backward = backward;

    public Tensor?[] Inputs { get; } = inputs;

    public Tensor?[] Run(Tensor g) => _backward is { } f ? f(g) : throw new InvalidOperationException(
        "Backward: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). " +
        "Saved intermediate values of the graph are freed when you call Backward(). Specify retainGraph: true if you need to backward through the graph a second time.");

    /// <summary>Drops the closure and with it the tensors it saved, as PyTorch frees the graph after backward.</summary>
    public void Release() => _backward = null;
}

public partial class Tensor
{
    private bool _requiresGrad;
    internal Node? GradFn;

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves (<c>tensor.requires_grad_()</c>);
    /// results of recorded ops report true.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || GradFn != null;
        set
        {
            if (GradFn != null && !value)
                throw new InvalidOperationException("RequiresGrad: you can only change requires_grad flags of leaf variables.");
            _requiresGrad = value;
        }
    }

    /// <summary>Fluent form of <see cref="RequiresGrad"/> (<c>tensor.requires_grad_()</c>).</summary>
    public Tensor RequiresGrad_(bool value = true) { RequiresGrad = value; return this; }

    /// <summary>True for tensors not produced by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>The accumulated gradient of a leaf after <see cref="Backward"/> (<c>tensor.grad</c>); null before.</summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            // The gradient lives as long as this tensor, past any TensorScope it was made in.
            if (value is not null) TensorScope.Escape(value.Storage);
            _grad = value;
        }
    }

    private Tensor? _grad;

    /// <summary>
    /// Back-propagates from this tensor (<c>tensor.backward(gradient, retain_graph)</c>). A scalar needs no gradient;
    /// otherwise <paramref name="gradient"/> must have this tensor's shape. The graph is freed afterwards unless
    /// <paramref name="retainGraph"/>; a second backward through a freed graph raises InvalidOperationException.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: element 0 of tensors does not require grad and does not have a grad_fn");
        if (gradient is null)
        {
            if (Numel != 1)
                throw new InvalidOperationException($"Backward: grad can be implicitly created only for scalar outputs, got shape {ShapeUtil.Format(Sizes)}");
            gradient = Ones(Sizes);
        }
        else if (!ShapeUtil.SameShape(gradient.Sizes, Sizes))
            throw new ArgumentException($"Backward: gradient of shape {ShapeUtil.Format(gradient.Sizes)} given for a tensor of shape {ShapeUtil.Format(Sizes)}");
        Autograd.Backward(this, gradient.Contiguous(), retainGraph);
    }

    /// <summary>The same data, cut from the graph (<c>tensor.detach()</c>); shares storage.</summary>
    public Tensor Detach() => new(Storage, Offset, Sizes, Strides);

    /// <summary>
    /// Adds <paramref name="g"/> to <see cref="Grad"/>, in place when a gradient is already there (as PyTorch
    /// accumulates). A first gradient is copied, so it never aliases a tensor the caller still holds, unless
    /// <paramref name="adopt"/> says the backward pass made it and nothing else reads it.
    /// </summary>
    internal void AccumulateGrad(Tensor g, bool adopt = false)
    {
        if (Grad is { } grad && grad.IsContiguous && !grad.RequiresGrad)
        {
            Autograd.AddInto(grad, g.Contiguous());
            return;
        }
        Grad = Grad is null ? (adopt ? g.Detach() : g.Clone().Detach()) : (Grad + g).Detach();
    }
}

public partial class Tensor
{
    private void CheckInPlace(string op)
    {
        if (Autograd.IsEnabled && RequiresGrad)
            throw new InvalidOperationException($"{op}: a leaf tensor that requires grad is being used in an in-place operation; wrap the update in Autograd.NoGrad()");
    }

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape) into this tensor in place (<c>tensor.copy_</c>).</summary>
    public Tensor CopyFrom(Tensor source)
    {
        CheckInPlace("CopyFrom");
        StridedLoop.Copy(source.Detach().Expand(Sizes), this);
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/> in place (<c>tensor.fill_</c>).</summary>
    public Tensor Fill(float value)
    {
        CheckInPlace("Fill");
        StridedLoop.Copy(Scalar(value).Expand(Sizes), this);
        return this;
    }
}
