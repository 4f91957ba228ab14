using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// torchvision's ResNet <c>BasicBlock</c>: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), with 3×3 convs without
/// bias (conv1 carries the stride) and identity = downsample(x) when given (1×1 conv + BN). With an SE reduction, an
/// SE module (<see cref="SqueezeExcitation"/>) gates the residual branch after bn2 and before the add, as in the
/// SE-ResNet paper (Hu et al.). input [N, inPlanes, H, W] → [N, planes, ⌈H/stride⌉, ⌈W/stride⌉].
/// Names: conv1, bn1, relu, conv2, bn2, downsample.0, downsample.1, se.squeeze, se.excite.
/// </summary>
public sealed class BasicBlock : Module
{
    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public ReLU Relu { get; }
    public Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Sequential? Downsample { get; }
    public SqueezeExcitation? SE { get; }

    /// <param name="inPlanes">Input channels.</param>
    /// <param name="planes">Output channels (of both convs).</param>
    /// <param name="stride">Stride of conv1 (and of the downsample projection).</param>
    /// <param name="downsample">The identity path's projection, constructed by the caller first (as torchvision's _make_layer does).</param>
    /// <param name="seReduction">With a value, an SE module with this reduction (⌈planes/reduction⌉ hidden channels).</param>
    public BasicBlock(int inPlanes, int planes, int stride = 1, Sequential? downsample = null, int? seReduction = null)
    {
        if (inPlanes <= 0 || planes <= 0 || stride <= 0)
            throw new ArgumentException($"BasicBlock: expected positive inPlanes, planes and stride, got ({inPlanes}, {planes}, {stride})");
        if (downsample is null && (stride != 1 || inPlanes != planes))
            throw new ArgumentException($"BasicBlock: a block from {inPlanes} to {planes} channels with stride {stride} needs a downsample module");
        Conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 3, stride, 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        Relu = RegisterModule("relu", new ReLU());
        Conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, 1, 1, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        if (downsample is not null) Downsample = RegisterModule("downsample", downsample);
        if (seReduction is int r) SE = RegisterModule("se", new SqueezeExcitation(planes, r));
    }

    public override Tensor Forward(Tensor input)
    {
        var identity = Downsample?.Call(input) ?? input;
        // In inference conv1-bn1-relu and conv2-bn2 each run as one fused convolution (InferenceFusion).
        var y = InferenceFusion.Run([Conv1, Bn1, Relu, Conv2, Bn2], input);
        if (SE is not null) y = SE.Call(y);
        return Relu.Call(y + identity);
    }
}
