namespace ConvKit.Optim;

/// <summary>
/// Base of the learning-rate schedulers, as PyTorch 1.13's <c>torch.optim.lr_scheduler._LRScheduler</c>. The
/// constructor records each group's <see cref="ParamGroup.InitialLr"/> (when not yet set) as the base lr and performs
/// the first <see cref="Step"/> (epoch 0); call <see cref="Step"/> after each <see cref="Optimizer.Step"/>. The
/// recursive forms PyTorch uses are followed (a schedule reads each group's current lr), with the same double
/// arithmetic in the same order, so the sequences equal PyTorch's (bit for bit in the golden tests on Linux x64).
/// </summary>
public abstract class LRScheduler
{
    private double[] _lastLr = [];

    private protected LRScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
    }

    /// <summary>The optimizer whose groups' lrs this scheduler sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Number of <see cref="Step"/> calls after the constructor's (<c>last_epoch</c>); 0 right after construction.</summary>
    public int LastEpoch { get; private set; } = -1;

    /// <summary>The groups' initial lrs (<c>base_lrs</c>).</summary>
    public IReadOnlyList<double> BaseLrs { get; private set; } = [];

    /// <summary>The lr of each group set by the latest step (<c>get_last_lr()</c>).</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    private protected IReadOnlyList<ParamGroup> Groups => Optimizer.ParamGroups;

    /// <summary>Sets the base lrs and takes the constructor's step; called at the end of each derived constructor.</summary>
    private protected void Start()
    {
        foreach (var g in Groups) g.InitialLr ??= g.Lr;
        BaseLrs = Groups.Select(g => g.InitialLr!.Value).ToArray();
        Step();
    }

    /// <summary>Advances the schedule by one step and sets every group's lr (<c>scheduler.step()</c>).</summary>
    public void Step()
    {
        var lrs = ComputeLr(LastEpoch + 1);
        LastEpoch++;
        for (int i = 0; i < lrs.Length; i++) Groups[i].Lr = lrs[i];
        _lastLr = Groups.Select(g => g.Lr).ToArray();
    }

    /// <summary>The lr of each group at <paramref name="epoch"/> (PyTorch's <c>get_lr</c>), from the groups' current lrs.</summary>
    private protected abstract double[] ComputeLr(int epoch);

    /// <summary>The schedule's position (<c>scheduler.state_dict()</c>); hyper-parameters come from the constructor.</summary>
    public SchedulerState StateDict() => new(LastEpoch, BaseLrs.ToArray(), _lastLr.ToArray());

    /// <summary>
    /// Restores a position saved by <see cref="StateDict"/> into a scheduler built with the same arguments over an
    /// optimizer with the same number of groups (restore the optimizer's own state dict too: it holds the lrs).
    /// </summary>
    public void LoadStateDict(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string op = $"{GetType().Name}.LoadStateDict";
        if (state.BaseLrs is null || state.LastLr is null || state.BaseLrs.Count != Groups.Count || state.LastLr.Count != Groups.Count)
            throw new ArgumentException($"{op}: loaded state has {state.BaseLrs?.Count ?? 0} base lrs and {state.LastLr?.Count ?? 0} last lrs, the optimizer has {Groups.Count} parameter groups");
        if (state.LastEpoch < 0) throw new ArgumentException($"{op}: loaded last epoch {state.LastEpoch} is negative");
        LastEpoch = state.LastEpoch;
        BaseLrs = state.BaseLrs.ToArray();
        _lastLr = state.LastLr.ToArray();
    }
}

/// <summary>A scheduler's position: <c>last_epoch</c>, <c>base_lrs</c> and <c>_last_lr</c> of PyTorch's state dict.</summary>
public sealed record SchedulerState(int LastEpoch, IReadOnlyList<double> BaseLrs, IReadOnlyList<double> LastLr);
