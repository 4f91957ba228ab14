namespace ConvKit.Optim;

/// <summary>
/// Tensors optimized with shared hyper-parameters: one entry of PyTorch's <c>optimizer.param_groups</c>.
/// Each optimizer has its own group type (<see cref="SgdParamGroup"/>, <see cref="AdamParamGroup"/>) carrying its
/// hyper-parameters; <see cref="Lr"/> is common to all and is what schedulers set.
/// </summary>
public abstract class ParamGroup
{
    private List<Tensor> _params = [];

    /// <summary>The parameters of this group (<c>group['params']</c>), leaf tensors updated in place.</summary>
    public IReadOnlyList<Tensor> Params => _params;

    /// <summary>Learning rate (<c>group['lr']</c>).</summary>
    public double Lr { get; set; }

    /// <summary>
    /// The learning rate a scheduler started from (<c>group['initial_lr']</c>): set by the first scheduler attached to
    /// the optimizer (by <see cref="OneCycleLR"/> to maxLr / divFactor), null before.
    /// </summary>
    public double? InitialLr { get; set; }

    /// <summary>A copy of this group's hyper-parameters holding <paramref name="parameters"/>.</summary>
    internal ParamGroup CloneWith(IEnumerable<Tensor> parameters)
    {
        var clone = (ParamGroup)MemberwiseClone();
        clone._params = parameters.ToList();
        return clone;
    }

    /// <summary>A hyper-parameter under its PyTorch key name, read and written as a double (booleans as 0/1).</summary>
    private protected sealed record Option(string Key, Func<double> Get, Action<double> Set);

    /// <summary>The group's hyper-parameters besides lr, for <see cref="Save"/> and <see cref="Load"/>.</summary>
    private protected abstract IEnumerable<Option> Options { get; }

    /// <summary>Writes the hyper-parameters under PyTorch's key names (booleans as 0/1).</summary>
    internal void Save(IDictionary<string, double> h)
    {
        h["lr"] = Lr;
        if (InitialLr is double initial) h["initial_lr"] = initial;
        foreach (var o in Options) h[o.Key] = o.Get();
    }

    /// <summary>Reads what <see cref="Save"/> wrote; a missing key raises ArgumentException naming it.</summary>
    internal void Load(IReadOnlyDictionary<string, double> h, string op)
    {
        double Get(string key) => h.TryGetValue(key, out var v) ? v
            : throw new ArgumentException($"{op}: the loaded parameter group has no hyper-parameter '{key}' (has: {string.Join(", ", h.Keys)})");
        Lr = Get("lr");
        InitialLr = h.TryGetValue("initial_lr", out var initial) ? initial : null;
        foreach (var o in Options) o.Set(Get(o.Key));
    }

    /// <summary>Checks the hyper-parameters, raising ArgumentException with PyTorch's wording.</summary>
    internal virtual void Validate(string op)
    {
        if (!(Lr >= 0)) throw new ArgumentException($"{op}: Invalid learning rate: {Lr}");
    }

    private protected static void CheckNonNegative(double value, string what, string op)
    {
        if (!(value >= 0)) throw new ArgumentException($"{op}: Invalid {what} value: {value}");
    }
}

/// <summary>
/// A group with a momentum that <see cref="OneCycleLR"/> can cycle: SGD's <c>momentum</c>, or β1 of Adam's
/// <c>betas</c> (PyTorch's <c>cycle_momentum</c> does the same).
/// </summary>
public interface IMomentumParamGroup
{
    /// <summary>The momentum factor (SGD's momentum, Adam's β1).</summary>
    double Momentum { get; set; }
}
