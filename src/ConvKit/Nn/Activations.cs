namespace ConvKit.Nn;

/// <summary><c>torch.nn.ReLU</c>.</summary>
public sealed class ReLU : Module { public override Tensor Forward(Tensor input) => F.Relu(input); }

/// <summary><c>torch.nn.ReLU6</c>.</summary>
public sealed class ReLU6 : Module { public override Tensor Forward(Tensor input) => F.Relu6(input); }

/// <summary><c>torch.nn.Sigmoid</c>.</summary>
public sealed class Sigmoid : Module { public override Tensor Forward(Tensor input) => F.Sigmoid(input); }

/// <summary><c>torch.nn.Tanh</c>.</summary>
public sealed class Tanh : Module { public override Tensor Forward(Tensor input) => F.Tanh(input); }

/// <summary><c>torch.nn.LeakyReLU(negative_slope)</c>.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope => negativeSlope;
    public override Tensor Forward(Tensor input) => F.LeakyRelu(input, negativeSlope);
    protected override string ExtraRepr() => $"negative_slope={negativeSlope}";
}

/// <summary><c>torch.nn.Softmax(dim)</c>.</summary>
public sealed class Softmax(int dim) : Module
{
    public int Dim => dim;
    public override Tensor Forward(Tensor input) => F.Softmax(input, dim);
    protected override string ExtraRepr() => $"dim={dim}";
}
