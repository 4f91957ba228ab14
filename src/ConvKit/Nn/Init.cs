namespace ConvKit.Nn;

/// <summary>
/// Weight initialisations (<c>torch.nn.init</c>), drawing from <see cref="Generator.Current"/> unless a generator
/// is passed. Bounds are computed in double exactly as PyTorch does, and the draws use PyTorch's streams, so the
/// same seed gives the same weights as PyTorch.
/// </summary>
public static class Init
{
    /// <summary>(fan_in, fan_out) of a weight: size(1)·receptive field and size(0)·receptive field.</summary>
    public static (int FanIn, int FanOut) FanInAndFanOut(Tensor t)
    {
        if (t.Dim < 2)
            throw new ArgumentException($"Init: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got shape {ShapeUtil.Format(t.Sizes)}");
        int receptive = 1;
        for (int d = 2; d < t.Dim; d++) receptive *= t.Sizes[d];
        return (t.Sizes[1] * receptive, t.Sizes[0] * receptive);
    }

    /// <summary>The recommended gain for a nonlinearity (<c>calculate_gain</c>).</summary>
    public static double CalculateGain(string nonlinearity, double? param = null) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" or "sigmoid" => 1,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        "selu" => 3.0 / 4,
        _ => throw new ArgumentException($"Init: Unsupported nonlinearity {nonlinearity}"),
    };

    private static int Fan(Tensor t, string mode) => mode switch
    {
        "fan_in" => FanInAndFanOut(t).FanIn,
        "fan_out" => FanInAndFanOut(t).FanOut,
        _ => throw new ArgumentException($"Init: Mode {mode} not supported, please use one of fan_in, fan_out"),
    };

    private static Tensor Filled(Tensor t, Action<Span<float>> fill)
    {
        if (!t.IsContiguous) throw new ArgumentException("Init: expected a contiguous tensor");
        fill(t.Span);
        return t;
    }

    /// <summary>U(a, b) in place (<c>uniform_</c>).</summary>
    public static Tensor Uniform(Tensor t, double a = 0, double b = 1, Generator? generator = null) =>
        Filled(t, s => (generator ?? Generator.Current).FillUniform(s, (float)a, (float)b));

    /// <summary>N(mean, std²) in place (<c>normal_</c>).</summary>
    public static Tensor Normal(Tensor t, double mean = 0, double std = 1, Generator? generator = null) =>
        Filled(t, s => (generator ?? Generator.Current).FillNormal(s, (float)mean, (float)std));

    public static Tensor Constant(Tensor t, float value) => Filled(t, s => s.Fill(value));
    public static Tensor Zeros(Tensor t) => Constant(t, 0f);
    public static Tensor Ones(Tensor t) => Constant(t, 1f);

    /// <summary>He uniform: U(−b, b) with b = gain·√(3 / fan) (<c>kaiming_uniform_</c>).</summary>
    public static Tensor KaimingUniform(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(t, mode));
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(t, -bound, bound, generator);
    }

    /// <summary>He normal: N(0, (gain / √fan)²) (<c>kaiming_normal_</c>).</summary>
    public static Tensor KaimingNormal(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null) =>
        Normal(t, 0, CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(t, mode)), generator);

    /// <summary>Glorot uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)) (<c>xavier_uniform_</c>).</summary>
    public static Tensor XavierUniform(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = FanInAndFanOut(t);
        double std = gain * Math.Sqrt(2.0 / (fi + fo));
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(t, -bound, bound, generator);
    }

    /// <summary>Glorot normal (<c>xavier_normal_</c>).</summary>
    public static Tensor XavierNormal(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = FanInAndFanOut(t);
        return Normal(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), generator);
    }

    /// <summary>
    /// PyTorch's default for Conv and Linear layers (<c>reset_parameters</c>): weight from kaiming_uniform_ with
    /// a = √5, i.e. U(±1/√fan_in), then bias from U(±1/√fan_in).
    /// </summary>
    public static void DefaultLayer(Tensor weight, Tensor? bias, Generator? generator = null)
    {
        KaimingUniform(weight, Math.Sqrt(5), generator: generator);
        if (bias is null) return;
        int fanIn = FanInAndFanOut(weight).FanIn;
        if (fanIn == 0) return;
        double bound = 1 / Math.Sqrt(fanIn);
        Uniform(bias, -bound, bound, generator);
    }

    /// <summary>
    /// The bilinear-upsampling kernel of the FCN tutorial, [inChannels, outChannels, k, k]: channel i maps to
    /// channel i with filter (1 − |r − c|/f)(1 − |s − c|/f), f = ⌈k/2⌉, c = f − 1 for odd k, f − 0.5 for even k.
    /// Used to initialise a ConvTranspose2d(k = 2s, stride s, padding s/2) as s× bilinear upsampling.
    /// </summary>
    public static Tensor BilinearKernel(int inChannels, int outChannels, int kernelSize)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"BilinearKernel: expected positive channels and kernel size, got ({inChannels}, {outChannels}, {kernelSize})");
        int factor = (kernelSize + 1) / 2;
        // float32 arithmetic, as the tutorial's torch code: for odd k, (1 − 2/3)² is 0.1111111f, not (float)(1/9.0).
        float center = kernelSize % 2 == 1 ? factor - 1 : factor - 0.5f;
        var w = Tensor.Zeros(inChannels, outChannels, kernelSize, kernelSize);
        var d = w.Span;
        for (int c = 0; c < Math.Min(inChannels, outChannels); c++)
        for (int r = 0; r < kernelSize; r++)
        for (int s = 0; s < kernelSize; s++)
            d[((c * outChannels + c) * kernelSize + r) * kernelSize + s] =
                (1f - MathF.Abs(r - center) / factor) * (1f - MathF.Abs(s - center) / factor);
        return w;
    }
}
