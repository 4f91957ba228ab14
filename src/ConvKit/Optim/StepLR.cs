namespace ConvKit.Optim;

/// <summary>
/// Multiplies each group's lr by <c>gamma</c> every <c>stepSize</c> steps, as <c>torch.optim.lr_scheduler.StepLR</c>:
/// lr(e) = lr(e − 1)·gamma when e &gt; 0 and e is a multiple of stepSize, else lr(e − 1).
/// </summary>
public sealed class StepLR : LRScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <param name="optimizer">The optimizer whose lrs are scheduled.</param>
    /// <param name="stepSize">Period of the decay in steps, &gt; 0.</param>
    /// <param name="gamma">Multiplicative decay factor.</param>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize <= 0) throw new ArgumentException($"StepLR: stepSize must be positive, got {stepSize}");
        _stepSize = stepSize;
        _gamma = gamma;
        Start();
    }

    private protected override double[] ComputeLr(int epoch)
        => Groups.Select(g => epoch == 0 || epoch % _stepSize != 0 ? g.Lr : g.Lr * _gamma).ToArray();
}
