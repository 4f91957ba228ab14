using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// ResNet of <see cref="BasicBlock"/>s with torchvision's layout, names and initialisation (<c>torchvision.models.resnet18/34</c>):
/// conv1 (7×7, stride 2, no bias), bn1, relu, maxpool (3×3, stride 2, padding 1), layer1..layer4 (64, 128, 256, 512
/// channels, strides 1, 2, 2, 2), avgpool (adaptive 1×1), fc. input [N, inChannels, H, W] → logits [N, numClasses];
/// <see cref="ForwardFeatures"/> gives the trunk's [N, 512, ⌈H/32⌉, ⌈W/32⌉].
/// <para>
/// Initialisation as torchvision: every layer is built with PyTorch's default init, then each Conv2d weight is redrawn
/// with kaiming_normal_(fan_out, relu) in module order (BN stays 1/0, fc keeps its default), so under
/// <c>Generator.Use(new Generator(s))</c> the weights equal <c>torch.manual_seed(s); resnet18()</c>.
/// </para>
/// <para>
/// SE-ResNet (<see cref="SEResNet18"/>, <see cref="SEResNet34"/>): each block gets an SE module after bn2, before the
/// residual add, named <c>layerK.i.se.squeeze</c> / <c>layerK.i.se.excite</c> (1×1 convs with bias; their weights are
/// redrawn by the kaiming loop too, their biases keep the default init).
/// </para>
/// </summary>
public sealed class ResNet : Module
{
    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public ReLU Relu { get; }
    public MaxPool2d MaxPool { get; }
    public Sequential Layer1 { get; }
    public Sequential Layer2 { get; }
    public Sequential Layer3 { get; }
    public Sequential Layer4 { get; }
    public AdaptiveAvgPool2d AvgPool { get; }
    public Linear Fc { get; }
    public int InChannels { get; }

    /// <param name="layers">Blocks per stage, four counts (ResNet18: 2, 2, 2, 2; ResNet34: 3, 4, 6, 3).</param>
    /// <param name="numClasses">Outputs of fc (torchvision's default 1000).</param>
    /// <param name="inChannels">Channels of the input image.</param>
    /// <param name="seReduction">With a value, an SE module of this reduction in every block (SE-ResNet).</param>
    public ResNet(IReadOnlyList<int> layers, int numClasses = 1000, int inChannels = 3, int? seReduction = null)
    {
        if (layers.Count != 4 || layers.Any(n => n <= 0))
            throw new ArgumentException($"ResNet: expected four positive block counts, got [{string.Join(", ", layers)}]");
        if (numClasses <= 0) throw new ArgumentException($"ResNet: numClasses must be positive, got {numClasses}");
        if (inChannels <= 0) throw new ArgumentException($"ResNet: inChannels must be positive, got {inChannels}");
        if (seReduction <= 0) throw new ArgumentException($"ResNet: seReduction must be positive, got {seReduction}");
        InChannels = inChannels;
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, 64, 7, 2, 3, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(64));
        Relu = RegisterModule("relu", new ReLU());
        MaxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, 1));
        int inPlanes = 64;
        Sequential MakeLayer(int planes, int blocks, int stride)
        {
            var layer = new Sequential();
            for (int i = 0; i < blocks; i++)
            {
                int s = i == 0 ? stride : 1;
                var downsample = s != 1 || inPlanes != planes
                    ? new Sequential(new Conv2d(inPlanes, planes, 1, s, bias: false), new BatchNorm2d(planes)) : null;
                layer.Add(new BasicBlock(inPlanes, planes, s, downsample, seReduction));
                inPlanes = planes;
            }
            return layer;
        }
        Layer1 = RegisterModule("layer1", MakeLayer(64, layers[0], 1));
        Layer2 = RegisterModule("layer2", MakeLayer(128, layers[1], 2));
        Layer3 = RegisterModule("layer3", MakeLayer(256, layers[2], 2));
        Layer4 = RegisterModule("layer4", MakeLayer(512, layers[3], 2));
        AvgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        Fc = RegisterModule("fc", new Linear(512, numClasses));
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c) Init.KaimingNormal(c.Weight, mode: "fan_out", nonlinearity: "relu");
    }

    /// <summary>torchvision.models.resnet18: blocks (2, 2, 2, 2).</summary>
    public static ResNet ResNet18(int numClasses = 1000, int inChannels = 3) => new([2, 2, 2, 2], numClasses, inChannels);

    /// <summary>torchvision.models.resnet34: blocks (3, 4, 6, 3).</summary>
    public static ResNet ResNet34(int numClasses = 1000, int inChannels = 3) => new([3, 4, 6, 3], numClasses, inChannels);

    /// <summary>ResNet18 with an SE module in every block (reduction 16 as in the SE-ResNet paper).</summary>
    public static ResNet SEResNet18(int numClasses = 1000, int inChannels = 3, int reduction = 16) => new([2, 2, 2, 2], numClasses, inChannels, reduction);

    /// <summary>ResNet34 with an SE module in every block.</summary>
    public static ResNet SEResNet34(int numClasses = 1000, int inChannels = 3, int reduction = 16) => new([3, 4, 6, 3], numClasses, inChannels, reduction);

    /// <summary>The trunk in order, as torchvision's <c>list(children())[:-2]</c>: conv1, bn1, relu, maxpool, layer1..layer4.</summary>
    public IReadOnlyList<Module> TrunkLayers => [Conv1, Bn1, Relu, MaxPool, Layer1, Layer2, Layer3, Layer4];

    /// <summary>The trunk: input [N, inChannels, H, W] → features [N, 512, ⌈H/32⌉, ⌈W/32⌉].</summary>
    public Tensor ForwardFeatures(Tensor input)
    {
        if (input.Dim != 4 || input.Sizes[1] != InChannels)
            throw new ArgumentException($"ResNet: expected input [N, {InChannels}, H, W], got {ShapeUtil.Format(input.Sizes)}");
        return InferenceFusion.Run(TrunkLayers, input);
    }

    /// <summary>input [N, inChannels, H, W] → logits [N, numClasses].</summary>
    public override Tensor Forward(Tensor input) => Fc.Call(AvgPool.Call(ForwardFeatures(input)).Flatten(1));
}
