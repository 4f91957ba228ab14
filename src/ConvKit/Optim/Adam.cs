using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Optim;

/// <summary>Hyper-parameters of an <see cref="Adam"/> or <see cref="AdamW"/> group.</summary>
public sealed class AdamParamGroup : ParamGroup, IMomentumParamGroup
{
    /// <summary>Decay rates of the first and second moment averages (<c>betas</c>), each in [0, 1).</summary>
    public (double Beta1, double Beta2) Betas { get; set; }
    /// <summary>Added to the denominator for numerical stability (<c>eps</c>), ≥ 0.</summary>
    public double Eps { get; set; }
    /// <summary>L2 penalty (Adam) or decoupled decay rate (AdamW) (<c>weight_decay</c>), ≥ 0.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Normalise by the running maximum of the second moment (<c>amsgrad</c>).</summary>
    public bool Amsgrad { get; set; }

    /// <summary>β1, the momentum <see cref="OneCycleLR"/> cycles.</summary>
    double IMomentumParamGroup.Momentum
    {
        get => Betas.Beta1;
        set => Betas = (value, Betas.Beta2);
    }

    private protected override IEnumerable<Option> Options =>
    [
        new("beta1", () => Betas.Beta1, v => Betas = (v, Betas.Beta2)),
        new("beta2", () => Betas.Beta2, v => Betas = (Betas.Beta1, v)),
        new("eps", () => Eps, v => Eps = v),
        new("weight_decay", () => WeightDecay, v => WeightDecay = v),
        new("amsgrad", () => Amsgrad ? 1 : 0, v => Amsgrad = v != 0),
    ];

    internal override void Validate(string op)
    {
        base.Validate(op);
        CheckNonNegative(Eps, "epsilon", op);
        if (!(Betas.Beta1 >= 0 && Betas.Beta1 < 1)) throw new ArgumentException($"{op}: Invalid beta parameter at index 0: {Betas.Beta1}");
        if (!(Betas.Beta2 >= 0 && Betas.Beta2 < 1)) throw new ArgumentException($"{op}: Invalid beta parameter at index 1: {Betas.Beta2}");
        CheckNonNegative(WeightDecay, "weight_decay", op);
    }
}

/// <summary>
/// The shared step of <see cref="Adam"/> and <see cref="AdamW"/> (PyTorch 1.13's single-tensor implementations),
/// per parameter with gradient g and step count t (per parameter, counting only steps where it had a gradient):
/// <code>
/// m = β1·m + (1 − β1)·g
/// v = β2·v + (1 − β2)·g·g            (amsgrad: v̂ = max(v̂, v) is used below instead of v)
/// p = p − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps)
/// </code>
/// with bias corrections in double precision and every tensor operation rounded to float32 in PyTorch's order.
/// Adam adds weightDecay·p to g first; AdamW multiplies p by 1 − lr·weightDecay first.
/// </summary>
public abstract class AdamBase : Optimizer<AdamParamGroup>
{
    private static readonly IReadOnlySet<string> Keys = new HashSet<string> { "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" };
    private readonly bool _decoupledWeightDecay;

    private protected AdamBase(string name, IEnumerable<Tensor> parameters, double lr, (double, double) betas, double eps, double weightDecay, bool amsgrad, bool decoupledWeightDecay)
        : base(name, parameters, new AdamParamGroup { Lr = lr, Betas = betas, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad })
        => _decoupledWeightDecay = decoupledWeightDecay;

    private protected override IReadOnlySet<string> StateKeys => Keys;

    private protected override void Update(AdamParamGroup group, int[] shape, Span<float> param, ReadOnlySpan<float> grad, Dictionary<string, Tensor> state)
    {
        var (beta1, beta2) = group.Betas;
        var stepTensor = StateTensor(state, "step", []);
        var expAvg = StateTensor(state, "exp_avg", shape).Span;
        var expAvgSq = StateTensor(state, "exp_avg_sq", shape).Span;
        float step = stepTensor.Span[0] += 1f;
        // The decayed gradient, the second-moment term (then the denominator) and the update.
        var rented = ArrayPool<float>.Shared.Rent(3 * param.Length);
        try
        {
            if (group.WeightDecay != 0)
            {
                if (_decoupledWeightDecay) TensorPrimitives.Multiply(param, (float)(1 - group.Lr * group.WeightDecay), param);
                else
                {
                    var decayed = rented.AsSpan(0, param.Length);
                    TensorPrimitives.FusedMultiplyAdd(param, (float)group.WeightDecay, grad, decayed);
                    grad = decayed;
                }
            }
            var scratch = rented.AsSpan(param.Length, param.Length);
            TensorPrimitives.Multiply(expAvg, (float)beta1, expAvg);
            TensorPrimitives.FusedMultiplyAdd(grad, (float)(1 - beta1), expAvg, expAvg);
            TensorPrimitives.Multiply(expAvgSq, (float)beta2, expAvgSq);
            TensorPrimitives.Multiply(grad, (float)(1 - beta2), scratch);
            TensorPrimitives.FusedMultiplyAdd(scratch, grad, expAvgSq, expAvgSq);

            double biasCorrection1 = 1 - Math.Pow(beta1, step);
            double biasCorrection2 = 1 - Math.Pow(beta2, step);
            double stepSize = group.Lr / biasCorrection1;
            double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);

            ReadOnlySpan<float> second = expAvgSq;
            if (group.Amsgrad)
            {
                var max = StateTensor(state, "max_exp_avg_sq", shape).Span;
                TensorPrimitives.Max(max, expAvgSq, max);
                second = max;
            }
            var denom = scratch;
            TensorPrimitives.Sqrt(second, denom);
            TensorPrimitives.Divide(denom, (float)biasCorrection2Sqrt, denom);
            TensorPrimitives.Add(denom, (float)group.Eps, denom);
            var update = rented.AsSpan(2 * param.Length, param.Length);
            TensorPrimitives.Multiply(expAvg, (float)-stepSize, update);
            TensorPrimitives.Divide(update, denom, update);
            TensorPrimitives.Add(param, update, param);
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    private static Tensor StateTensor(Dictionary<string, Tensor> state, string key, int[] shape)
    {
        if (!state.TryGetValue(key, out var t)) state[key] = t = Tensor.Zeros(shape);
        return t;
    }
}

/// <summary>
/// Adam, as <c>torch.optim.Adam</c> (PyTorch 1.13): weight decay is an L2 penalty added to the gradient.
/// The update is described on <see cref="AdamBase"/>.
/// </summary>
public sealed class Adam : AdamBase
{
    /// <param name="parameters">The tensors to optimize (one group).</param>
    /// <param name="lr">Learning rate, ≥ 0.</param>
    /// <param name="betas">Decay rates of the moment averages, each in [0, 1); default (0.9, 0.999).</param>
    /// <param name="eps">Added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">L2 penalty, ≥ 0.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : base("Adam", parameters, lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, decoupledWeightDecay: false)
    {
    }
}

/// <summary>
/// AdamW, as <c>torch.optim.AdamW</c> (PyTorch 1.13): decoupled weight decay, p = p·(1 − lr·weightDecay) before
/// the Adam update described on <see cref="AdamBase"/>.
/// </summary>
public sealed class AdamW : AdamBase
{
    /// <param name="parameters">The tensors to optimize (one group).</param>
    /// <param name="lr">Learning rate, ≥ 0.</param>
    /// <param name="betas">Decay rates of the moment averages, each in [0, 1); default (0.9, 0.999).</param>
    /// <param name="eps">Added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">Decoupled weight decay, ≥ 0; default 1e-2.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
        : base("AdamW", parameters, lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, decoupledWeightDecay: true)
    {
    }
}
