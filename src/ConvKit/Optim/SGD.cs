using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Optim;

/// <summary>Hyper-parameters of an <see cref="SGD"/> group.</summary>
public sealed class SgdParamGroup : ParamGroup, IMomentumParamGroup
{
    /// <summary>Momentum factor (<c>momentum</c>), ≥ 0; 0 turns momentum off.</summary>
    public double Momentum { get; set; }
    /// <summary>Dampening of the momentum (<c>dampening</c>).</summary>
    public double Dampening { get; set; }
    /// <summary>L2 penalty added to the gradient (<c>weight_decay</c>), ≥ 0.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Nesterov momentum (<c>nesterov</c>); requires momentum &gt; 0 and dampening 0.</summary>
    public bool Nesterov { get; set; }

    private protected override IEnumerable<Option> Options =>
    [
        new("momentum", () => Momentum, v => Momentum = v),
        new("dampening", () => Dampening, v => Dampening = v),
        new("weight_decay", () => WeightDecay, v => WeightDecay = v),
        new("nesterov", () => Nesterov ? 1 : 0, v => Nesterov = v != 0),
    ];

    internal override void Validate(string op)
    {
        base.Validate(op);
        CheckNonNegative(Momentum, "momentum", op);
        CheckNonNegative(WeightDecay, "weight_decay", op);
        if (Nesterov && (Momentum <= 0 || Dampening != 0))
            throw new ArgumentException($"{op}: Nesterov momentum requires a momentum and zero dampening (got momentum {Momentum}, dampening {Dampening})");
    }
}

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, as
/// <c>torch.optim.SGD</c> (PyTorch 1.13, single-tensor implementation), per parameter with gradient g:
/// <code>
/// g = g + weightDecay·p                            (when weightDecay ≠ 0)
/// b = g on the first step, else momentum·b + (1 − dampening)·g   (when momentum ≠ 0)
/// g = nesterov ? g + momentum·b : b
/// p = p − lr·g
/// </code>
/// Each line rounds to float32 as PyTorch's CPU kernels do (additions with a factor are fused multiply-adds).
/// </summary>
public sealed class SGD : Optimizer<SgdParamGroup>
{
    private static readonly IReadOnlySet<string> Keys = new HashSet<string> { "momentum_buffer" };

    /// <param name="parameters">The tensors to optimize (one group).</param>
    /// <param name="lr">Learning rate, ≥ 0.</param>
    /// <param name="momentum">Momentum factor, ≥ 0.</param>
    /// <param name="dampening">Dampening of the momentum.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient, ≥ 0.</param>
    /// <param name="nesterov">Nesterov momentum; requires momentum &gt; 0 and dampening 0.</param>
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base("SGD", parameters, new SgdParamGroup { Lr = lr, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay, Nesterov = nesterov })
    {
    }

    private protected override IReadOnlySet<string> StateKeys => Keys;

    private protected override void Update(SgdParamGroup group, int[] shape, Span<float> param, ReadOnlySpan<float> grad, Dictionary<string, Tensor> state)
    {
        // Room for the decayed gradient and the Nesterov look-ahead, which are alive together; plain momentum needs none.
        int scratchLength = (group.WeightDecay != 0 ? param.Length : 0) + (group.Nesterov ? param.Length : 0);
        var scratch = scratchLength == 0 ? [] : ArrayPool<float>.Shared.Rent(scratchLength);
        try
        {
            ReadOnlySpan<float> d = grad;
            if (group.WeightDecay != 0)
            {
                var decayed = scratch.AsSpan(0, param.Length);
                TensorPrimitives.FusedMultiplyAdd(param, (float)group.WeightDecay, grad, decayed);
                d = decayed;
            }
            if (group.Momentum != 0)
            {
                if (!state.TryGetValue("momentum_buffer", out var bufTensor))
                    state["momentum_buffer"] = bufTensor = Tensor.FromArray(d.ToArray(), shape);
                else if (!group.Nesterov)
                {
                    // The common case in one pass over p, d and buf instead of three, with the same roundings.
                    MomentumStep(param, d, bufTensor.Span, (float)group.Momentum, (float)(1 - group.Dampening), (float)-group.Lr);
                    return;
                }
                else
                {
                    var b = bufTensor.Span;
                    TensorPrimitives.Multiply(b, (float)group.Momentum, b);
                    TensorPrimitives.FusedMultiplyAdd(d, (float)(1 - group.Dampening), b, b);
                }
                var buf = bufTensor.Span;
                if (group.Nesterov)
                {
                    var nesterov = scratch.AsSpan(scratchLength - param.Length, param.Length);
                    TensorPrimitives.FusedMultiplyAdd(buf, (float)group.Momentum, d, nesterov);
                    d = nesterov;
                }
                else d = buf;
            }
            TensorPrimitives.FusedMultiplyAdd(d, (float)-group.Lr, param, param);
        }
        finally { if (scratchLength > 0) ArrayPool<float>.Shared.Return(scratch); }
    }

    /// <summary>
    /// buf = fma(d, s, buf·m), then p = fma(buf, lr, p), element by element: the roundings of PyTorch's
    /// <c>buf.mul_(m).add_(d, alpha=s)</c> and <c>p.add_(buf, alpha=lr)</c> (add_ with alpha fuses), in one pass over
    /// the three arrays where three TensorPrimitives calls made five reads and three writes; split over the threads
    /// for large tensors (the step is memory-bound: 11 ms for ResNet18's 11.7 M parameters).
    /// </summary>
    private static unsafe void MomentumStep(Span<float> p, ReadOnlySpan<float> d, Span<float> buf, float m, float s, float lr)
    {
        const int Chunk = 1 << 15;
        int n = p.Length, chunks = (n + Chunk - 1) / Chunk;
        fixed (float* pp = p, pd = d, pb = buf)
        {
            nint ap = (nint)pp, ad = (nint)pd, ab = (nint)pb;
            Parallelism.For(chunks, chunks > 4 ? Parallelism.Threads : 1, c =>
            {
                float* x = (float*)ap, g = (float*)ad, b = (float*)ab;
                int i = c * Chunk, end = Math.Min(n, i + Chunk);
                if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
                {
                    Vector256<float> vm = Vector256.Create(m), vs = Vector256.Create(s), vl = Vector256.Create(lr);
                    for (; i + 8 <= end; i += 8)
                    {
                        var nb = Fma.MultiplyAdd(Vector256.Load(g + i), vs, Vector256.Load(b + i) * vm);
                        nb.Store(b + i);
                        Fma.MultiplyAdd(nb, vl, Vector256.Load(x + i)).Store(x + i);
                    }
                }
                for (; i < end; i++)
                {
                    b[i] = MathF.FusedMultiplyAdd(g[i], s, b[i] * m);
                    x[i] = MathF.FusedMultiplyAdd(b[i], lr, x[i]);
                }
            });
        }
    }
}
