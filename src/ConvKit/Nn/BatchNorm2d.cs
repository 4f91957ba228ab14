namespace ConvKit.Nn;

/// <summary>
/// Batch normalization over [N, C, H, W] (<c>torch.nn.BatchNorm2d</c>). Parameters weight/bias [C] when
/// affine; buffers running_mean, running_var [C] and num_batches_tracked (a 0-dim count) when tracking.
/// A null momentum means a cumulative moving average (factor 1/num_batches_tracked).
/// </summary>
public sealed class BatchNorm2d : Module
{
    public int NumFeatures { get; }
    public double Eps { get; }
    public double? Momentum { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }
    public Tensor? NumBatchesTracked { get; }

    public BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
    {
        if (numFeatures <= 0) throw new ArgumentException($"BatchNorm2d: num_features must be positive, got {numFeatures}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = RegisterOptionalParameter("weight", affine ? new Parameter(Tensor.Ones(numFeatures)) : null);
        Bias = RegisterOptionalParameter("bias", affine ? new Parameter(Tensor.Zeros(numFeatures)) : null);
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros());
        }
    }

    public override Tensor Forward(Tensor input) => Apply(input, relu: false);

    /// <summary>relu(Forward(input)) as one op, which keeps one activation instead of two (see <see cref="InferenceFusion"/>).</summary>
    internal Tensor ForwardRelu(Tensor input) => Apply(input, relu: true);

    private Tensor Apply(Tensor input, bool relu)
    {
        if (input.Dim != 4) throw new ArgumentException($"BatchNorm2d: expected 4D input (got {input.Dim}D input of shape {ShapeUtil.Format(input.Sizes)})");
        if (input.Sizes[1] != NumFeatures)
            throw new ArgumentException($"BatchNorm2d: expected input with {NumFeatures} channels, got {ShapeUtil.Format(input.Sizes)}");
        double factor = Momentum ?? 0.0;
        if (Training && NumBatchesTracked is not null)
        {
            NumBatchesTracked.Span[0] += 1;
            factor = Momentum ?? 1.0 / NumBatchesTracked.Span[0];
        }
        bool useBatchStats = Training || RunningMean is null;
        bool passRunning = !Training || RunningMean is not null;
        return F.BatchNorm(input, passRunning ? RunningMean : null, passRunning ? RunningVar : null, Weight, Bias, useBatchStats, factor, Eps, relu);
    }

    protected override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps}, momentum={(Momentum is null ? "None" : Momentum.ToString())}, affine={(Weight is not null ? "True" : "False")}, track_running_stats={(RunningMean is not null ? "True" : "False")}";
}
