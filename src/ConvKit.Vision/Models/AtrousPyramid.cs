using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// A multi-scale pyramid after torchvision's DeepLabV3 <c>ASPP</c>: parallel branches Conv2d(cIn, cOut, 3,
/// padding = dilation = r, no bias) → BatchNorm2d → ReLU for each rate r (default 1, 6, 12, 18), plus an
/// image-pooling branch (global average pool → 1×1 conv → BN → ReLU → bilinear resize back to H×W), concatenated
/// and fused by <c>project</c> = 1×1 conv → BN → ReLU. Unlike torchvision, every rate (1 included) is a 3×3
/// branch and the projection has no dropout. input [N, cIn, H, W] → [N, cOut, H, W].
/// Parameter names: convs.{i}.0.weight, convs.{i}.1.* (BN), convs.{rates}.1.weight (pooling conv),
/// convs.{rates}.2.* (pooling BN), project.0.weight, project.1.*. As in PyTorch, the pooling branch's BN needs
/// more than one sample per batch in training mode.
/// </summary>
public sealed class AtrousPyramid : Module
{
    public static IReadOnlyList<int> DefaultRates { get; } = [1, 6, 12, 18];

    public ModuleList<Module> Convs { get; }
    public Sequential Project { get; }

    public AtrousPyramid(int inChannels, int outChannels, IReadOnlyList<int>? rates = null)
    {
        rates ??= DefaultRates;
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentException($"AtrousPyramid: expected positive channel counts, got in={inChannels}, out={outChannels}");
        if (rates.Count == 0 || rates.Any(r => r <= 0))
            throw new ArgumentException($"AtrousPyramid: expected one or more positive dilation rates, got [{string.Join(", ", rates)}]");
        var branches = rates.Select(r => (Module)ConvBnRelu.Create(inChannels, outChannels, 3, 1, r, r, bias: false)).ToList();
        branches.Add(new ImagePooling(inChannels, outChannels));
        Convs = RegisterModule("convs", new ModuleList<Module>(branches));
        Project = RegisterModule("project", ConvBnRelu.Create(branches.Count * outChannels, outChannels, 1, 1, 0, bias: false));
    }

    public override Tensor Forward(Tensor input) => Project.Call(Tensor.Cat(Convs.Select(c => c.Call(input)).ToList(), 1));

    /// <summary>torchvision's <c>ASPPPooling</c>: children 0 (pool), 1 (1×1 conv), 2 (BN), 3 (ReLU); output resized to the input's H×W.</summary>
    private sealed class ImagePooling : Module
    {
        private readonly Module[] _layers;

        public ImagePooling(int inChannels, int outChannels)
        {
            _layers = [new AdaptiveAvgPool2d(1), new Conv2d(inChannels, outChannels, 1, bias: false), new BatchNorm2d(outChannels), new ReLU()];
            for (int i = 0; i < _layers.Length; i++) RegisterModule(i.ToString(), _layers[i]);
        }

        public override Tensor Forward(Tensor input)
        {
            var y = InferenceFusion.Run(_layers, input);
            return F.Interpolate(y, size: (input.Sizes[2], input.Sizes[3]), mode: "bilinear", alignCorners: false);
        }
    }
}
