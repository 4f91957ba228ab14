namespace ConvKit.Optim;

/// <summary>
/// Base of the optimizers, as <c>torch.optim.Optimizer</c>: parameter groups, per-parameter state, <see cref="Step"/>,
/// <see cref="ZeroGrad"/> and a state dict from which training resumes bit-exactly. Parameters are leaf tensors;
/// <see cref="Step"/> updates their storage in place and skips parameters whose <see cref="Tensor.Grad"/> is null.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<Tensor, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);

    private protected Optimizer(string name) => Name = name;

    /// <summary>The optimizer's name as used in error messages ("SGD", "Adam", "AdamW").</summary>
    public string Name { get; }

    /// <summary>The parameter groups (<c>optimizer.param_groups</c>), in the order they were added.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => Groups;

    private protected abstract IReadOnlyList<ParamGroup> Groups { get; }

    /// <summary>Names of the per-parameter state tensors this optimizer keeps (PyTorch's keys).</summary>
    private protected abstract IReadOnlySet<string> StateKeys { get; }

    /// <summary>
    /// Clears the gradients of all parameters (<c>optimizer.zero_grad(set_to_none)</c>): sets them to null, or with
    /// <paramref name="setToNone"/> false fills them with zeros in place. PyTorch 1.13 defaults to false, PyTorch 2.x
    /// to true as here; the difference matters: a zero gradient is still a step (momentum and weight decay act),
    /// a null gradient skips the parameter.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var group in Groups)
            foreach (var p in group.Params)
            {
                if (p.Grad is null) continue;
                if (setToNone) p.Grad = null;
                else p.Grad.Fill(0f);
            }
    }

    /// <summary>One optimization step over every parameter that has a gradient (<c>optimizer.step()</c>).</summary>
    public void Step()
    {
        using var _ = Autograd.NoGrad();
        // State made here (momentum buffers, moments) lives as long as the optimizer, past the caller's TensorScope.
        using var __ = TensorScope.Suspend();
        foreach (var group in Groups)
            foreach (var p in group.Params)
            {
                if (p.Grad is not { } grad) continue;
                if (!ShapeUtil.SameShape(grad.Sizes, p.Sizes))
                    throw new ArgumentException($"{Name}.Step: gradient of shape {ShapeUtil.Format(grad.Sizes)} for a parameter of shape {ShapeUtil.Format(p.Sizes)}");
                if (!_state.TryGetValue(p, out var state)) _state[p] = state = new Dictionary<string, Tensor>();
                var data = p.Contiguous();
                Update(group, p.Sizes, data.Span, grad.Contiguous().Span, state);
                if (!ReferenceEquals(data, p)) StridedLoop.Copy(data, p);
            }
    }

    /// <summary>Updates one parameter of <paramref name="shape"/> in place from its gradient; <paramref name="state"/> is its lazily created state.</summary>
    private protected abstract void Update(ParamGroup group, int[] shape, Span<float> param, ReadOnlySpan<float> grad, Dictionary<string, Tensor> state);

    /// <summary>
    /// A snapshot of the optimizer (<c>optimizer.state_dict()</c>): per-parameter state tensors keyed by the
    /// parameter's index over all groups, and each group's parameter indices and hyper-parameters (lr included).
    /// Copies, so later steps do not change it.
    /// </summary>
    public OptimizerState StateDict()
    {
        var state = new Dictionary<int, IReadOnlyDictionary<string, StateTensor>>();
        var groups = new List<ParamGroupState>();
        int index = 0;
        foreach (var group in Groups)
        {
            var ids = new int[group.Params.Count];
            for (int i = 0; i < ids.Length; i++, index++)
            {
                ids[i] = index;
                if (_state.TryGetValue(group.Params[i], out var s) && s.Count > 0)
                    state[index] = s.ToDictionary(kv => kv.Key, kv => new StateTensor(kv.Value.Shape.ToArray(), kv.Value.ToArray()));
            }
            var h = new Dictionary<string, double>();
            group.Save(h);
            groups.Add(new ParamGroupState(ids, h));
        }
        return new OptimizerState(state, groups);
    }

    /// <summary>
    /// Restores a snapshot taken by <see cref="StateDict"/> of an optimizer of the same kind over parameters of the
    /// same shapes (<c>optimizer.load_state_dict</c>): groups are matched by position and parameters by order within
    /// them. Everything is checked before anything changes; a mismatch (group or parameter count, unknown state,
    /// state shape, missing hyper-parameter) raises ArgumentException naming it.
    /// </summary>
    public void LoadStateDict(OptimizerState state)
    {
        using var _ = TensorScope.Suspend();
        ArgumentNullException.ThrowIfNull(state);
        string op = $"{Name}.LoadStateDict";
        var groups = Groups;
        if (state.ParamGroups.Count != groups.Count)
            throw new ArgumentException($"{op}: loaded state dict has {state.ParamGroups.Count} parameter groups, the optimizer has {groups.Count}");
        var byId = new Dictionary<int, Tensor>();
        for (int g = 0; g < groups.Count; g++)
        {
            var saved = state.ParamGroups[g];
            if (saved.Params.Count != groups[g].Params.Count)
                throw new ArgumentException($"{op}: loaded parameter group {g} has {saved.Params.Count} parameters, the optimizer's group has {groups[g].Params.Count}");
            for (int i = 0; i < saved.Params.Count; i++)
                if (!byId.TryAdd(saved.Params[i], groups[g].Params[i]))
                    throw new ArgumentException($"{op}: parameter index {saved.Params[i]} appears twice in the loaded parameter groups");
            var trial = groups[g].CloneWith([]);
            trial.Load(saved.HyperParameters, op);
            trial.Validate(op);
        }
        foreach (var (id, entries) in state.State)
        {
            if (!byId.TryGetValue(id, out var p))
                throw new ArgumentException($"{op}: loaded state for parameter {id}, which no loaded parameter group lists");
            foreach (var (key, t) in entries)
            {
                if (!StateKeys.Contains(key))
                    throw new ArgumentException($"{op}: unexpected state '{key}' for parameter {id}; {Name} keeps {string.Join(", ", StateKeys)}");
                var expected = key == "step" ? [] : p.Sizes;
                if (t?.Shape is null || t.Data is null || !ShapeUtil.SameShape(t.Shape, expected) || t.Data.Length != ShapeUtil.Numel(expected))
                    throw new ArgumentException(
                        $"{op}: state '{key}' of parameter {id} has shape {(t?.Shape is null ? "null" : ShapeUtil.Format(t.Shape))} with {t?.Data?.Length ?? 0} values, expected {ShapeUtil.Format(expected)}");
            }
        }
        for (int g = 0; g < groups.Count; g++) groups[g].Load(state.ParamGroups[g].HyperParameters, op);
        _state.Clear();
        foreach (var (id, entries) in state.State)
            _state[byId[id]] = entries.ToDictionary(kv => kv.Key, kv => Tensor.FromArray(kv.Value.Data, kv.Value.Shape));
    }
}

/// <summary>An optimizer whose groups are of type <typeparamref name="TGroup"/>; holds the defaults new groups start from.</summary>
public abstract class Optimizer<TGroup> : Optimizer where TGroup : ParamGroup
{
    private readonly List<TGroup> _groups = [];
    private readonly TGroup _defaults;

    private protected Optimizer(string name, IEnumerable<Tensor> parameters, TGroup defaults) : base(name)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        defaults.Validate(name);
        _defaults = defaults;
        var list = parameters.ToList();
        if (list.Count == 0) throw new ArgumentException($"{name}: optimizer got an empty parameter list");
        AddParamGroup(list);
    }

    /// <summary>The parameter groups with their typed hyper-parameters.</summary>
    public new IReadOnlyList<TGroup> ParamGroups => _groups;

    private protected override IReadOnlyList<ParamGroup> Groups => _groups;

    /// <summary>
    /// Adds a group that starts from the constructor's hyper-parameters, changed by <paramref name="configure"/>
    /// (<c>optimizer.add_param_group({'params': ..., 'lr': ...})</c>), e.g. a smaller lr for a pretrained backbone.
    /// A parameter may belong to one group only.
    /// </summary>
    public TGroup AddParamGroup(IEnumerable<Tensor> parameters, Action<TGroup>? configure = null)
    {
        var group = (TGroup)_defaults.CloneWith(parameters);
        configure?.Invoke(group);
        group.Validate(Name);
        var seen = new HashSet<Tensor>(_groups.SelectMany(g => g.Params), ReferenceEqualityComparer.Instance);
        foreach (var p in group.Params)
        {
            ArgumentNullException.ThrowIfNull(p);
            if (!p.IsLeaf) throw new ArgumentException($"{Name}: can't optimize a non-leaf Tensor");
            if (!seen.Add(p)) throw new ArgumentException($"{Name}: some parameters appear more than once in the parameter groups");
        }
        _groups.Add(group);
        return group;
    }

    private protected sealed override void Update(ParamGroup group, int[] shape, Span<float> param, ReadOnlySpan<float> grad, Dictionary<string, Tensor> state)
        => Update((TGroup)group, shape, param, grad, state);

    private protected abstract void Update(TGroup group, int[] shape, Span<float> param, ReadOnlySpan<float> grad, Dictionary<string, Tensor> state);
}
