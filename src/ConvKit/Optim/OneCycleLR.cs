namespace ConvKit.Optim;

/// <summary>
/// The 1cycle policy, as <c>torch.optim.lr_scheduler.OneCycleLR</c> (PyTorch 1.13): the lr rises from
/// maxLr / divFactor to maxLr over the first pctStart·totalSteps steps, then anneals to
/// maxLr / (divFactor·finalDivFactor) at step totalSteps − 1 (with <c>threePhase</c>: back down to the initial lr
/// at 2·pctStart·totalSteps − 2, then to the minimum). Each phase anneals by cosine
/// (end + (start − end)/2·(cos(π·pct) + 1)) or linearly, with pct = (step − phase start)/(phase end − phase start)
/// and phase ends at pctStart·totalSteps − 1, [2·pctStart·totalSteps − 2,] totalSteps − 1.
/// With <c>cycleMomentum</c> (the default, as in PyTorch) the momentum (SGD's momentum, Adam's β1) moves inversely
/// between maxMomentum and baseMomentum, and is set to maxMomentum at construction. Stepping past totalSteps raises
/// InvalidOperationException (PyTorch: ValueError).
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private enum Point { Initial, Max, Min }

    private sealed record Phase(double EndStep, Point StartLr, Point EndLr, bool StartMomentumMax, bool EndMomentumMax);

    private readonly int _totalSteps;
    private readonly Phase[] _phases;
    private readonly bool _cos;
    private readonly bool _cycleMomentum;
    private readonly double[][] _lrPoints;          // per group: initial, max, min
    private readonly (double Max, double Base)[] _momenta;

    /// <summary>One maximum lr for every group.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos",
        double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95)
        : this(optimizer, Enumerable.Repeat(maxLr, optimizer?.ParamGroups.Count ?? 0).ToArray(), totalSteps, pctStart, annealStrategy,
            divFactor, finalDivFactor, threePhase, cycleMomentum, baseMomentum, maxMomentum)
    {
    }

    /// <param name="optimizer">The optimizer whose lrs (and momenta) are scheduled.</param>
    /// <param name="maxLrs">Peak lr of each parameter group.</param>
    /// <param name="totalSteps">Number of steps in the cycle, &gt; 0.</param>
    /// <param name="pctStart">Fraction of the cycle spent increasing the lr, in [0, 1].</param>
    /// <param name="annealStrategy">"cos" or "linear".</param>
    /// <param name="divFactor">initial lr = maxLr / divFactor.</param>
    /// <param name="finalDivFactor">minimum lr = initial lr / finalDivFactor.</param>
    /// <param name="threePhase">PyTorch's <c>three_phase</c>: a symmetric decrease back to the initial lr, then the annihilation phase.</param>
    /// <param name="cycleMomentum">Cycle the momentum inversely to the lr.</param>
    /// <param name="baseMomentum">Lowest momentum (at the peak lr).</param>
    /// <param name="maxMomentum">Highest momentum (at the start and end).</param>
    public OneCycleLR(Optimizer optimizer, double[] maxLrs, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos",
        double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95)
        : base(optimizer)
    {
        const string op = "OneCycleLR";
        ArgumentNullException.ThrowIfNull(maxLrs);
        if (totalSteps <= 0) throw new ArgumentException($"{op}: Expected positive integer total_steps, but got {totalSteps}");
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentException($"{op}: Expected float between 0 and 1 pct_start, but got {pctStart}");
        _cos = annealStrategy switch
        {
            "cos" => true,
            "linear" => false,
            _ => throw new ArgumentException($"{op}: anneal_strategy must by one of 'cos' or 'linear', instead got {annealStrategy}"),
        };
        if (maxLrs.Length != Groups.Count) throw new ArgumentException($"{op}: expected {Groups.Count} values for max_lr, got {maxLrs.Length}");
        if (cycleMomentum && Groups.Any(g => g is not IMomentumParamGroup))
            throw new ArgumentException($"{op}: optimizer must support momentum with `cycle_momentum` option enabled");
        _totalSteps = totalSteps;
        _phases = threePhase
            ?
            [
                new Phase(pctStart * totalSteps - 1, Point.Initial, Point.Max, true, false),
                new Phase(2 * pctStart * totalSteps - 2, Point.Max, Point.Initial, false, true),
                new Phase(totalSteps - 1, Point.Initial, Point.Min, true, true),
            ]
            :
            [
                new Phase(pctStart * totalSteps - 1, Point.Initial, Point.Max, true, false),
                new Phase(totalSteps - 1, Point.Max, Point.Min, false, true),
            ];
        _lrPoints = new double[Groups.Count][];
        for (int i = 0; i < Groups.Count; i++)
        {
            double initial = maxLrs[i] / divFactor;
            _lrPoints[i] = [initial, maxLrs[i], initial / finalDivFactor];
            Groups[i].InitialLr = initial;
        }
        _cycleMomentum = cycleMomentum;
        _momenta = Groups.Select(_ => (maxMomentum, baseMomentum)).ToArray();
        if (cycleMomentum)
            foreach (var g in Groups) ((IMomentumParamGroup)g).Momentum = maxMomentum;
        Start();
    }

    private protected override double[] ComputeLr(int epoch)
    {
        if (epoch > _totalSteps)
            throw new InvalidOperationException($"OneCycleLR: Tried to step {epoch} times. The specified number of total steps is {_totalSteps}");
        var lrs = new double[Groups.Count];
        for (int i = 0; i < lrs.Length; i++)
        {
            double startStep = 0;
            for (int k = 0; k < _phases.Length; k++)
            {
                var phase = _phases[k];
                if (epoch <= phase.EndStep || k == _phases.Length - 1)
                {
                    double pct = (epoch - startStep) / (phase.EndStep - startStep);
                    lrs[i] = Anneal(_lrPoints[i][(int)phase.StartLr], _lrPoints[i][(int)phase.EndLr], pct);
                    if (_cycleMomentum)
                        ((IMomentumParamGroup)Groups[i]).Momentum = Anneal(Momentum(i, phase.StartMomentumMax), Momentum(i, phase.EndMomentumMax), pct);
                    break;
                }
                startStep = phase.EndStep;
            }
        }
        return lrs;
    }

    private double Momentum(int group, bool max) => max ? _momenta[group].Max : _momenta[group].Base;

    private double Anneal(double start, double end, double pct)
        => _cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;
}
