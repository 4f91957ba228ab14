namespace ConvKit.Nn;

/// <summary>y = x·Wᵀ + b (<c>torch.nn.Linear</c>): weight [out, in], bias [out]; input [*, in] → [*, out].</summary>
public sealed class Linear : Module
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures < 0 || outFeatures <= 0) throw new ArgumentException($"Linear: expected positive sizes, got in_features={inFeatures}, out_features={outFeatures}");
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty(outFeatures, inFeatures)));
        Bias = RegisterOptionalParameter("bias", bias ? new Parameter(Tensor.Empty(outFeatures)) : null);
        Init.DefaultLayer(Weight, Bias);
    }

    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    protected override string ExtraRepr() => $"in_features={Weight.Sizes[1]}, out_features={Weight.Sizes[0]}, bias={(Bias is null ? "False" : "True")}";
}
