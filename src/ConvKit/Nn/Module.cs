namespace ConvKit.Nn;

/// <summary>
/// Base class of network layers (<c>torch.nn.Module</c>). Subclasses register parameters, buffers and
/// sub-modules in declaration order, which fixes the PyTorch-style dotted names (<c>layer1.0.conv1.weight</c>)
/// and the order of <see cref="StateDict"/>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter? Value)> _parameters = [];
    private readonly List<(string Name, Tensor? Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _modules = [];
    private List<Action<Module, Tensor, Tensor>>? _forwardHooks;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Runs the layer. Modules with other signatures add their own overloads.</summary>
    public virtual Tensor Forward(Tensor input) =>
        throw new NotSupportedException($"{GetType().Name} does not take a single tensor input");

    /// <summary>
    /// Runs <see cref="Forward"/> and then the forward hooks (<c>module(input)</c>, PyTorch's <c>__call__</c>).
    /// Modules call their children through this, so a hook sees every use of the layer inside a model.
    /// </summary>
    public Tensor Call(Tensor input)
    {
        var output = Forward(input);
        if (_forwardHooks is { Count: > 0 })
            foreach (var hook in _forwardHooks.ToArray()) hook(this, input, output);
        return output;
    }

    /// <summary>True when a forward hook is registered (the module's own output must then be materialised).</summary>
    internal bool HasForwardHooks => _forwardHooks is { Count: > 0 };

    /// <summary>
    /// Registers <paramref name="hook"/>(module, input, output), called after every <see cref="Call"/> of this module
    /// (<c>register_forward_hook</c>, without replacing the output). Disposing the handle removes it.
    /// </summary>
    public IDisposable RegisterForwardHook(Action<Module, Tensor, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        (_forwardHooks ??= []).Add(hook);
        return new HookHandle(() => _forwardHooks.Remove(hook));
    }

    private sealed class HookHandle(Action remove) : IDisposable
    {
        private Action? _remove = remove;
        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }

    protected Parameter RegisterParameter(string name, Parameter parameter) { CheckName(name); _parameters.Add((name, parameter)); return parameter; }
    /// <summary>Registers a parameter that may be absent (e.g. <c>bias=False</c>); an absent one is in no state dict.</summary>
    protected Parameter? RegisterOptionalParameter(string name, Parameter? parameter) { CheckName(name); _parameters.Add((name, parameter)); return parameter; }
    protected Tensor RegisterBuffer(string name, Tensor buffer) { CheckName(name); TensorScope.Escape(buffer.Storage); _buffers.Add((name, buffer)); return buffer; }
    protected T RegisterModule<T>(string name, T module) where T : Module { CheckName(name); _modules.Add((name, module)); return module; }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid member name '{name}' (must be non-empty and contain no '.')");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _modules.Any(m => m.Name == name))
            throw new ArgumentException($"{GetType().Name}: attribute '{name}' already exists");
    }

    /// <summary>Replaces a registered buffer (e.g. after loading a state dict into a buffer of another storage).</summary>
    protected void SetBuffer(string name, Tensor value)
    {
        int i = _buffers.FindIndex(b => b.Name == name);
        _buffers[i] = (name, value);
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _modules.Select(m => (m.Name, m.Value));
    public IEnumerable<Module> Children() => _modules.Select(m => m.Value);

    /// <summary>This module and all descendants with dotted names ("" for this one), depth first as PyTorch.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _modules)
            foreach (var m in child.NamedModules(prefix.Length == 0 ? name : prefix + "." + name))
                yield return m;
    }

    /// <summary>All parameters with dotted names (<c>named_parameters()</c>), each shared one listed once.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, p) in m._parameters)
                if (p != null && seen.Add(p))
                    yield return (Join(prefix, name), p);
    }

    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>All buffers with dotted names (<c>named_buffers()</c>), e.g. <c>bn.running_mean</c>, <c>bn.num_batches_tracked</c>.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, b) in m._buffers)
                if (b != null) yield return (Join(prefix, name), b);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Sets training mode on this module and all descendants (<c>module.train(mode)</c>).</summary>
    public Module Train(bool mode = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = mode;
        return this;
    }

    /// <summary>Evaluation mode (<c>module.eval()</c>): batch norm uses running statistics, dropout is the identity.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears every parameter's gradient (<c>module.zero_grad(set_to_none=True)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>
    /// Parameters and buffers by dotted name in PyTorch's order: each module's parameters, then its buffers,
    /// then its children. Values share storage with the module (<c>state_dict()</c>).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> StateDict()
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        Collect(this, "", result);
        return result;

        static void Collect(Module m, string prefix, List<KeyValuePair<string, Tensor>> into)
        {
            foreach (var (name, p) in m._parameters) if (p != null) into.Add(new(Join(prefix, name), p.Detach()));
            foreach (var (name, b) in m._buffers) if (b != null) into.Add(new(Join(prefix, name), b));
            foreach (var (name, child) in m._modules) Collect(child, Join(prefix, name), into);
        }
    }

    /// <summary>
    /// Copies values into this module's parameters and buffers by name (<c>load_state_dict</c>). With
    /// <paramref name="strict"/>, a missing or unexpected key is an error naming the keys; a shape mismatch is
    /// always an error naming the key and both shapes. Returns the missing and unexpected keys.
    /// </summary>
    public (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadStateDict(
        IEnumerable<KeyValuePair<string, Tensor>> stateDict, bool strict = true)
    {
        var incoming = new Dictionary<string, Tensor>();
        foreach (var (k, v) in stateDict)
            if (!incoming.TryAdd(k, v)) throw new ArgumentException($"LoadStateDict: duplicate key '{k}'");
        var own = StateDict();
        var missing = own.Where(kv => !incoming.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        var ownKeys = own.Select(kv => kv.Key).ToHashSet();
        var unexpected = incoming.Keys.Where(k => !ownKeys.Contains(k)).ToList();
        var errors = new List<string>();
        if (strict && unexpected.Count > 0) errors.Add("Unexpected key(s) in state_dict: " + string.Join(", ", unexpected.Select(k => $"\"{k}\"")) + ".");
        if (strict && missing.Count > 0) errors.Add("Missing key(s) in state_dict: " + string.Join(", ", missing.Select(k => $"\"{k}\"")) + ".");
        foreach (var (k, target) in own)
            if (incoming.TryGetValue(k, out var src) && !ShapeUtil.SameShape(src.Sizes, target.Sizes))
                errors.Add($"size mismatch for {k}: copying a param with shape {ShapeUtil.Format(src.Sizes)} from checkpoint, the shape in current model is {ShapeUtil.Format(target.Sizes)}.");
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}:\n\t" + string.Join("\n\t", errors));
        using (Autograd.NoGrad())
            foreach (var (k, target) in own)
                if (incoming.TryGetValue(k, out var src)) target.CopyFrom(src);
        return (missing, unexpected);
    }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    public override string ToString() => Describe(0);

    private string Describe(int indent)
    {
        var head = GetType().Name + "(" + ExtraRepr() + (_modules.Count > 0 ? "" : ")");
        if (_modules.Count == 0) return head;
        var pad = new string(' ', indent + 2);
        var lines = _modules.Select(m => $"{pad}({m.Name}): {m.Value.Describe(indent + 2)}");
        return head + "\n" + string.Join("\n", lines) + "\n" + new string(' ', indent) + ")";
    }

    /// <summary>The arguments shown in <see cref="ToString"/>, as PyTorch's <c>extra_repr</c>.</summary>
    protected virtual string ExtraRepr() => "";
}
