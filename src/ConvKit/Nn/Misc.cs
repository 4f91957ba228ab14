namespace ConvKit.Nn;

/// <summary><c>torch.nn.Dropout(p)</c>: active in training mode only.</summary>
public sealed class Dropout : Module
{
    public double P { get; }

    public Dropout(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new ArgumentException($"Dropout: dropout probability has to be between 0 and 1, but got {p}");
        P = p;
    }

    public override Tensor Forward(Tensor input) => F.Dropout(input, P, Training);
    protected override string ExtraRepr() => $"p={P}";
}

/// <summary><c>torch.nn.Flatten(start_dim=1, end_dim=-1)</c>.</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    public int StartDim => startDim;
    public int EndDim => endDim;
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);
    protected override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary><c>torch.nn.Identity</c>.</summary>
public sealed class Identity : Module { public override Tensor Forward(Tensor input) => input; }
