namespace ConvKit.Nn;

/// <summary>
/// Squeeze-and-Excitation (Hu et al., https://arxiv.org/abs/1709.01507), as in the SE tutorial: global
/// average pool, 1×1 squeeze to ⌈C/reduction⌉, ReLU, 1×1 excite back to C, sigmoid, then x·y.
/// input [N, C, H, W] → [N, C, H, W]. Children: squeeze, excite, relu.
/// </summary>
public sealed class SqueezeExcitation : Module
{
    public Conv2d Squeeze { get; }
    public Conv2d Excite { get; }
    private readonly ReLU _relu;

    public SqueezeExcitation(int channels, int reduction = 8)
    {
        if (channels <= 0 || reduction <= 0) throw new ArgumentException($"SqueezeExcitation: expected positive channels and reduction, got ({channels}, {reduction})");
        int reduced = (channels + reduction - 1) / reduction;
        Squeeze = RegisterModule("squeeze", new Conv2d(channels, reduced, 1));
        Excite = RegisterModule("excite", new Conv2d(reduced, channels, 1));
        _relu = RegisterModule("relu", new ReLU());
    }

    public override Tensor Forward(Tensor input)
    {
        var y = F.AvgPool2d(input, (input.Sizes[^2], input.Sizes[^1]));
        y = F.Sigmoid(Excite.Call(_relu.Call(Squeeze.Call(y))));
        return input * y;
    }

    /// <summary>
    /// Wraps a conv-block factory so each block it makes is followed by an SE module (the tutorial's
    /// <c>WithSE(conv_block, reduction)</c>): the result builds Sequential(block(cIn, cOut), SE(cOut)).
    /// </summary>
    public static Func<int, int, Module> WithSE(Func<int, int, Module> convBlock, int reduction = 8) =>
        (cIn, cOut) => new Sequential(convBlock(cIn, cOut), new SqueezeExcitation(cOut, reduction));
}
