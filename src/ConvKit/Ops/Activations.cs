namespace ConvKit;

public static partial class F
{
    /// <summary>max(0, x), as <c>torch.relu</c>. Any shape.</summary>
    public static Tensor Relu(Tensor input)
    {
        var y = Elementwise.Binary<MaxOp>(input, Tensor.Scalar(0f), "relu");
        return Autograd.Record(y, input, g => Elementwise.Binary<PassIfPositiveOp>(g, y, "relu_backward"));
    }

    /// <summary>x for x ≥ 0, slope·x otherwise, as <c>torch.nn.functional.leaky_relu</c>. Any shape.</summary>
    public static Tensor LeakyRelu(Tensor input, float negativeSlope = 0.01f)
    {
        var y = Elementwise.Map(input, v => v > 0 ? v : v * negativeSlope);
        return Autograd.Record(y, input, g => g * Elementwise.Map(input, v => v > 0 ? 1f : negativeSlope));
    }

    /// <summary>min(max(0, x), 6), as <c>torch.nn.functional.relu6</c>. Any shape.</summary>
    public static Tensor Relu6(Tensor input)
    {
        var y = Elementwise.Map(input, v => float.IsNaN(v) ? v : Math.Clamp(v, 0f, 6f));
        return Autograd.Record(y, input, g => g * Elementwise.Map(input, v => v > 0f && v < 6f ? 1f : 0f));
    }

    /// <summary>1 / (1 + e^−x), as <c>torch.sigmoid</c>. Any shape.</summary>
    public static Tensor Sigmoid(Tensor input)
    {
        var y = Elementwise.Unary<SigmoidOp>(input);
        return Autograd.Record(y, input, g => g * y * (1f - y));
    }

    /// <summary>Hyperbolic tangent, as <c>torch.tanh</c>. Any shape.</summary>
    public static Tensor Tanh(Tensor input)
    {
        var y = Elementwise.Unary<TanhOp>(input);
        return Autograd.Record(y, input, g => g * (1f - y * y));
    }

    /// <summary>Softmax along <paramref name="dim"/>, as <c>torch.softmax</c> (max-subtracted for stability).</summary>
    public static Tensor Softmax(Tensor input, int dim)
    {
        var y = SoftmaxCore(input, dim, log: false);
        return Autograd.Record(y, input, g => y * (g - (g * y).Sum([dim], keepDim: true)));
    }

    /// <summary>log(softmax(x)) along <paramref name="dim"/>, computed stably, as <c>torch.log_softmax</c>.</summary>
    public static Tensor LogSoftmax(Tensor input, int dim)
    {
        var y = SoftmaxCore(input, dim, log: true);
        return Autograd.Record(y, input, g => g - y.Exp() * g.Sum([dim], keepDim: true));
    }

    private static Tensor SoftmaxCore(Tensor input, int dim, bool log)
    {
        string op = log ? "log_softmax" : "softmax";
        int d = ShapeUtil.WrapDim(dim, input.Dim, op);
        if (input.Dim == 0) return log ? Tensor.Zeros() : Tensor.Ones();
        // Move dim last so every softmax runs over one contiguous row.
        var moved = input.Detach().Transpose(d, -1).Contiguous();
        var rows = moved.Span;
        int len = input.Sizes[d];
        var outRows = Tensor.Empty(moved.Sizes);
        var o = outRows.Span;
        for (int start = 0; start + len <= rows.Length && len > 0; start += len)
        {
            var src = rows.Slice(start, len);
            var dst = o.Slice(start, len);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(src);
            System.Numerics.Tensors.TensorPrimitives.Subtract(src, max, dst);
            if (log)
            {
                var tmp = new float[len];
                System.Numerics.Tensors.TensorPrimitives.Exp(dst, tmp);
                float lse = MathF.Log(System.Numerics.Tensors.TensorPrimitives.Sum(tmp));
                System.Numerics.Tensors.TensorPrimitives.Subtract(dst, lse, dst);
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Exp(dst, dst);
                float sum = System.Numerics.Tensors.TensorPrimitives.Sum(dst);
                System.Numerics.Tensors.TensorPrimitives.Divide(dst, sum, dst);
            }
        }
        return outRows.Transpose(d, -1).Contiguous().Detach();
    }

    /// <summary>
    /// Zeroes elements with probability <paramref name="p"/> and scales the rest by 1/(1−p) when
    /// <paramref name="training"/>, as <c>torch.nn.functional.dropout</c>; the identity otherwise.
    /// </summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (p < 0 || p > 1 || double.IsNaN(p)) throw new ArgumentException($"dropout: dropout probability has to be between 0 and 1, but got {p}");
        if (!training || p == 0) return input;
        var mask = Tensor.Zeros(input.Sizes);
        if (p < 1)
        {
            (generator ?? Generator.Current).FillBernoulli(mask.Span, 1 - p);
            System.Numerics.Tensors.TensorPrimitives.Multiply(mask.Span, (float)(1 / (1 - p)), mask.Span);
        }
        return input * mask;
    }
}
