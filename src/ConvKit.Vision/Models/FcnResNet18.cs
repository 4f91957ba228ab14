using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// FCN on a ResNet18 trunk, as in the FCN tutorial (shared/reference/002) and <c>fcn_resnet18</c> of
/// shared/peer/peer_models.py: an nn.Sequential of torchvision resnet18's children without avgpool and fc (children
/// 0..7 = conv1, bn1, relu, maxpool, layer1..layer4), then final_conv = Conv2d(512, numClasses, 1) and transpose_conv =
/// ConvTranspose2d(numClasses, numClasses, 64, stride 32, padding 16) initialised with the bilinear kernel (its bias and
/// final_conv keep PyTorch's default init, as in the tutorial's code). Names: 0.weight, 1.running_mean, 4.0.conv1.weight,
/// ..., final_conv.weight, transpose_conv.weight/bias. The same seed gives the tutorial's initial weights.
/// input [N, inChannels, H, W] → per-pixel logits [N, numClasses, H, W]. For H, W multiples of 32 this is the
/// tutorial's network; other sizes are zero-padded at the bottom and right to the next multiple of 32, run, and cropped.
/// </summary>
public sealed class FcnResNet18 : Module
{
    public IReadOnlyList<Module> Trunk { get; }
    public Conv2d FinalConv { get; }
    public ConvTranspose2d TransposeConv { get; }
    public int InChannels { get; }
    public int NumClasses { get; }

    public FcnResNet18(int numClasses = 21, int inChannels = 3)
    {
        if (numClasses <= 0) throw new ArgumentException($"FcnResNet18: numClasses must be positive, got {numClasses}");
        if (inChannels <= 0) throw new ArgumentException($"FcnResNet18: inChannels must be positive, got {inChannels}");
        InChannels = inChannels;
        NumClasses = numClasses;
        // A full resnet18() as in the tutorial (its 1000-way fc is drawn, then dropped), so the seeds line up.
        Trunk = ResNet.ResNet18(1000, inChannels).TrunkLayers;
        for (int i = 0; i < Trunk.Count; i++) RegisterModule(i.ToString(), Trunk[i]);
        FinalConv = RegisterModule("final_conv", new Conv2d(512, numClasses, 1));
        TransposeConv = RegisterModule("transpose_conv", BilinearUpsampler.CreateLayer(numClasses, numClasses, 32));
    }

    /// <summary>input [N, inChannels, H, W] → logits [N, numClasses, H, W].</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim != 4 || input.Sizes[1] != InChannels)
            throw new ArgumentException($"FcnResNet18: expected input [N, {InChannels}, H, W], got {ShapeUtil.Format(input.Sizes)}");
        int h = input.Sizes[2], w = input.Sizes[3];
        int padH = (32 - h % 32) % 32, padW = (32 - w % 32) % 32;
        var x = padH + padW > 0 ? F.Pad(input, [0, padW, 0, padH]) : input;
        x = InferenceFusion.Run(Trunk, x);
        x = TransposeConv.Call(FinalConv.Call(x));
        return padH + padW > 0 ? x.Narrow(2, 0, h).Narrow(3, 0, w) : x;
    }
}
