namespace ConvKit.Nn;

/// <summary>
/// A tensor that a <see cref="Module"/> trains (<c>torch.nn.Parameter</c>): a leaf that requires grad by
/// default and shares storage with the tensor it wraps.
/// </summary>
public sealed class Parameter : Tensor
{
    public Parameter(Tensor data, bool requiresGrad = true) : base(data.Storage, data.Offset, (int[])data.Sizes.Clone(), (int[])data.Strides.Clone())
    {
        RequiresGrad = requiresGrad;
        TensorScope.Escape(data.Storage);
    }
}
