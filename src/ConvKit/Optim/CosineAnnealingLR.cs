namespace ConvKit.Optim;

/// <summary>
/// Cosine annealing from the base lr to <c>etaMin</c> over <c>tMax</c> steps, as
/// <c>torch.optim.lr_scheduler.CosineAnnealingLR</c> with PyTorch 1.13's recursive form:
/// lr(e) = etaMin + (lr(e − 1) − etaMin)·(1 + cos(π·e/tMax)) / (1 + cos(π·(e − 1)/tMax)), and at the restart points
/// (e − 1 − tMax divisible by 2·tMax) lr(e) = lr(e − 1) + (base − etaMin)·(1 − cos(π/tMax)) / 2. Past tMax the lr rises
/// again along the cosine, as in PyTorch.
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <param name="optimizer">The optimizer whose lrs are scheduled.</param>
    /// <param name="tMax">Steps of half a cosine period, &gt; 0.</param>
    /// <param name="etaMin">Minimum lr.</param>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax <= 0) throw new ArgumentException($"CosineAnnealingLR: tMax must be positive, got {tMax}");
        _tMax = tMax;
        _etaMin = etaMin;
        Start();
    }

    private protected override double[] ComputeLr(int epoch)
    {
        if (epoch == 0) return Groups.Select(g => g.Lr).ToArray();
        if ((epoch - 1 - _tMax) % (2 * _tMax) == 0)
            return Groups.Select((g, i) => g.Lr + (BaseLrs[i] - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2).ToArray();
        return Groups.Select(g => (1 + Math.Cos(Math.PI * epoch / _tMax)) / (1 + Math.Cos(Math.PI * (epoch - 1) / _tMax)) * (g.Lr - _etaMin) + _etaMin).ToArray();
    }
}
